# src/trivial-rewrite: the address rewriting and resolving service (a multi
# server). Its core (canonical form, resolver, transport_maps, this
# machine's addresses) is a library, so unit tests call it without sockets.
LIBRARIES += trivial_rewrite_core
trivial_rewrite_core_SRCS := $(filter-out src/trivial-rewrite/trivial-rewrite.c,\
	$(wildcard src/trivial-rewrite/*.c))
trivial_rewrite_core_LDLIBS :=

DAEMONS += trivial-rewrite
trivial-rewrite_SRCS := src/trivial-rewrite/trivial-rewrite.c
trivial-rewrite_DEPS := trivial_rewrite_core server maps global util
trivial-rewrite_LDLIBS :=

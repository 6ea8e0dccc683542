# src/anvil: connection counts and rates for smtpd (a multi server, one
# process). Its counter table is a library, so unit tests drive it with a
# clock of their own.
LIBRARIES += anvil_core
anvil_core_SRCS := $(filter-out src/anvil/anvil.c,$(wildcard src/anvil/*.c))
anvil_core_LDLIBS :=

DAEMONS += anvil
anvil_SRCS := src/anvil/anvil.c
anvil_DEPS := anvil_core server maps global util
anvil_LDLIBS :=

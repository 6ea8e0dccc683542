# src/cleanup: the cleanup daemon (a single server on public/cleanup). Its
# core (everything but main) is a library, so unit tests and fuzz targets
# drive a whole cleanup conversation without master.
LIBRARIES += cleanup_core
cleanup_core_SRCS := $(filter-out src/cleanup/cleanup.c,$(wildcard src/cleanup/*.c))
cleanup_core_LDLIBS :=

DAEMONS += cleanup
cleanup_SRCS := src/cleanup/cleanup.c
cleanup_DEPS := cleanup_core server maps global util
cleanup_LDLIBS :=

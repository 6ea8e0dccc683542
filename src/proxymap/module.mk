# src/proxymap: table lookups for chrooted daemons (a multi server). Its
# core (approved tables, one request answered) is a library, so unit tests
# drive it without master.
LIBRARIES += proxymap_core
proxymap_core_SRCS := $(filter-out src/proxymap/proxymap.c,$(wildcard src/proxymap/*.c))
proxymap_core_LDLIBS :=

DAEMONS += proxymap
proxymap_SRCS := src/proxymap/proxymap.c
proxymap_DEPS := proxymap_core server maps global util
proxymap_LDLIBS :=

# src/global: mail knowledge built on src/util.
LIBRARIES += global
global_SRCS := $(wildcard src/global/*.c)
global_LDLIBS := -lresolv

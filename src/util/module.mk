# src/util: generic C, no mail knowledge.
LIBRARIES += util
util_SRCS := $(wildcard src/util/*.c)
util_LDLIBS :=

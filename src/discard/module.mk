# src/discard: the discard delivery agent.
DAEMONS += discard
discard_SRCS := $(wildcard src/discard/*.c)
discard_DEPS := server maps global util
discard_LDLIBS :=

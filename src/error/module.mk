# src/error: the error and retry delivery agents (one program, two master.cf services).
DAEMONS += error
error_SRCS := $(wildcard src/error/*.c)
error_DEPS := server maps global util
error_LDLIBS :=

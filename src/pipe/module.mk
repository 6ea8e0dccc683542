# src/pipe: the pipe(8) delivery agent; runs as root only to start commands as user=.
DAEMONS += pipe
pipe_SRCS := $(wildcard src/pipe/*.c)
pipe_DEPS := server maps global util
pipe_LDLIBS :=

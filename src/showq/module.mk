# src/showq: the queue listing service behind postqueue -p / -j.
DAEMONS += showq
showq_SRCS := $(wildcard src/showq/*.c)
showq_DEPS := server maps global util
showq_LDLIBS :=

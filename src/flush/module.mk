# src/flush: the fast flush service (ETRN, postqueue -s).
DAEMONS += flush
flush_SRCS := $(wildcard src/flush/*.c)
flush_DEPS := server maps global util
flush_LDLIBS :=

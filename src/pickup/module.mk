# src/pickup: moves maildrop files to cleanup (a trigger server).
DAEMONS += pickup
pickup_SRCS := $(wildcard src/pickup/*.c)
pickup_DEPS := server maps global util

# src/postmap: the postmap(1) command.
COMMANDS += postmap
postmap_SRCS := $(wildcard src/postmap/*.c)
postmap_DEPS := maps global util
postmap_LDLIBS :=

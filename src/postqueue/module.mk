# src/postqueue: queue listing and flushing for users (set-gid postdrop).
COMMANDS += postqueue
postqueue_SRCS := $(wildcard src/postqueue/*.c)
postqueue_DEPS := maps global util
postqueue_LDLIBS :=

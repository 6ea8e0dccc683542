# src/master: the master daemon (master*.c) and the "server" library: the
# daemon skeleton every service's main() calls, plus what master, its
# children and the postfix command share (child_proto, services,
# instance_lock, maillog).
DAEMONS += master
master_SRCS := $(wildcard src/master/master*.c)
master_DEPS := server global util
master_LDLIBS :=

LIBRARIES += server
server_SRCS := $(filter-out src/master/master%,$(wildcard src/master/*.c))
server_LDLIBS := -levent

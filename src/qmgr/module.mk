# src/qmgr: the queue manager (a resident trigger server). Its pure
# decisions (backoff, lifetimes, destination names, per-transport settings)
# are a library, so unit tests call them without a running daemon.
LIBRARIES += qmgr_core
qmgr_core_SRCS := src/qmgr/qmgr_policy.c
qmgr_core_LDLIBS :=

DAEMONS += qmgr
qmgr_SRCS := $(filter-out src/qmgr/qmgr_policy.c,$(wildcard src/qmgr/*.c))
qmgr_DEPS := qmgr_core server maps global util
qmgr_LDLIBS :=

# src/tlsmgr: the TLS session cache and ticket key manager (a multi server,
# one process; docs/tlsmgr.md).
DAEMONS += tlsmgr
tlsmgr_SRCS := $(wildcard src/tlsmgr/*.c)
tlsmgr_DEPS := server tls maps global util
tlsmgr_LDLIBS :=

# src/local: the local delivery agent (local(8)); runs as root to become each recipient.
DAEMONS += local
local_SRCS := $(wildcard src/local/*.c)
local_DEPS := server maps global util
local_LDLIBS :=

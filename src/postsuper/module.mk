# src/postsuper: queue maintenance for the administrator.
COMMANDS += postsuper
postsuper_SRCS := $(wildcard src/postsuper/*.c)
postsuper_DEPS := server maps global util
postsuper_LDLIBS :=

# src/postfix: the postfix(1) control command.
COMMANDS += postfix
postfix_SRCS := $(wildcard src/postfix/*.c)
postfix_DEPS := server global util
postfix_LDLIBS :=

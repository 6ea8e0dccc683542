# src/postconf: the postconf command.
COMMANDS += postconf
postconf_SRCS := $(wildcard src/postconf/*.c)
postconf_DEPS := global util

# src/postcat: print queue files.
COMMANDS += postcat
postcat_SRCS := $(wildcard src/postcat/*.c)
postcat_DEPS := global util

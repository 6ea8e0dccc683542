# src/postdrop: the set-gid command that writes maildrop files.
COMMANDS += postdrop
postdrop_SRCS := $(wildcard src/postdrop/*.c)
postdrop_DEPS := server maps global util

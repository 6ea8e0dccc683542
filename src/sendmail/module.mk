# src/sendmail: the sendmail(1) command (also mailq and newaliases).
COMMANDS += sendmail
sendmail_SRCS := $(wildcard src/sendmail/*.c)
sendmail_DEPS := server maps global util

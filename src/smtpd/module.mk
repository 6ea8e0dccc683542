# src/smtpd: the SMTP server (a single-connection server).
DAEMONS += smtpd
smtpd_SRCS := $(wildcard src/smtpd/*.c)
smtpd_DEPS := server tls maps global util
smtpd_LDLIBS :=

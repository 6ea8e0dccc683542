# src/smtp: the SMTP/LMTP client. One set of sources, two programs: "smtp"
# (master.cf services smtp and relay) and "lmtp"; the program name selects
# the protocol. Both link the same objects, so no shared build rule changes.
DAEMONS += smtp lmtp
smtp_SRCS := $(wildcard src/smtp/*.c)
smtp_DEPS := tls server maps global util
smtp_LDLIBS := -levent
lmtp_SRCS := $(smtp_SRCS)
lmtp_DEPS := $(smtp_DEPS)
lmtp_LDLIBS := $(smtp_LDLIBS)

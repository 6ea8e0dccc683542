# src/tls: the TLS library smtpd and the smtp/lmtp client call (docs/tls.md).
LIBRARIES += tls
tls_SRCS := $(wildcard src/tls/*.c)
tls_LDLIBS := -lssl -lcrypto -ldb

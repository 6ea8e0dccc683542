# src/bounce: the bounce, defer and trace services (one program). Composing
# a notification is a library, so unit tests check the RFC 3464 text.
LIBRARIES += bounce_core
bounce_core_SRCS := src/bounce/bounce_notice.c
bounce_core_LDLIBS :=

DAEMONS += bounce
bounce_SRCS := src/bounce/bounce.c
bounce_DEPS := bounce_core server maps global util
bounce_LDLIBS :=

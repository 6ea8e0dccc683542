/*
 * dsn - Delivery Status Notification values (RFC 3461), one definition.
 *
 * NOTIFY and RET as bit masks, numerically as Postfix stores them, used in
 * queue files (the N record and the dsn_ret attribute), in the delivery
 * request and by smtpd's parameter parser.
 */
#ifndef POSTERN_DSN_H
#define POSTERN_DSN_H

#define DSN_NOTIFY_NEVER    (1 << 0)
#define DSN_NOTIFY_SUCCESS  (1 << 1)
#define DSN_NOTIFY_DELAY    (1 << 2)
#define DSN_NOTIFY_FAILURE  (1 << 3)
#define DSN_NOTIFY_ANY      (DSN_NOTIFY_NEVER | DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY \
                             | DSN_NOTIFY_FAILURE)

#define DSN_RET_FULL        (1 << 0)
#define DSN_RET_HDRS        (1 << 1)

#endif

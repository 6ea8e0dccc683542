/*
 * mail_notify - who hears about trouble: notify_classes and the double
 * bounce address.
 *
 * notify_class_mask(list) turns a notify_classes value ("bounce, delay,
 * resource") into NOTIFY_CLASS_* bits; "bounce" implies "2bounce", as in
 * Postfix. An unknown name is logged once per call with a warning and
 * ignored.
 *
 * double_bounce_address(out) sets `out` to the sender of postmaster
 * notifications: $double_bounce_sender, with "@$myhostname" appended when
 * it has no domain. is_double_bounce_address(address) compares an envelope
 * address with it, ignoring case. A message from that sender that cannot
 * be delivered is dropped, never reported again: that is what stops
 * notification loops.
 */
#ifndef POSTERN_MAIL_NOTIFY_H
#define POSTERN_MAIL_NOTIFY_H

#include "strbuf.h"

#define NOTIFY_CLASS_BOUNCE    (1 << 0)
#define NOTIFY_CLASS_2BOUNCE   (1 << 1)
#define NOTIFY_CLASS_DATA      (1 << 2)
#define NOTIFY_CLASS_DELAY     (1 << 3)
#define NOTIFY_CLASS_POLICY    (1 << 4)
#define NOTIFY_CLASS_PROTOCOL  (1 << 5)
#define NOTIFY_CLASS_RESOURCE  (1 << 6)
#define NOTIFY_CLASS_SOFTWARE  (1 << 7)

int     notify_class_mask(const char *list);
void    double_bounce_address(strbuf *out);
int     is_double_bounce_address(const char *address);

#endif

/*
 * mail_date - RFC 5322 dates (Date:, Received:) and Message-ID values.
 *
 * mail_date_format(out, when) appends `when` in local time as an RFC 5322
 * date-time (section 3.3), the form Postfix writes:
 *     Mon, 23 Nov 2026 15:49:09 +0100 (CET)
 * Day and month names are English whatever the locale; the zone is the
 * numeric offset from UTC; the comment holds the C library's zone
 * abbreviation when it is made of letters, digits, '+' and '-' only, and is
 * left out otherwise.
 *
 * message_id_format(out, when, queue_id, hostname) appends a msg-id for a
 * Message-ID: header, as Postfix's cleanup makes them:
 *     <20261123144909.C96E4A725B1@mx.example.test>
 * (the time in UTC, then the queue ID, then myhostname): unique because a
 * queue ID is unique on its host while the message is queued. Returns 0,
 * or -1 with nothing appended when the queue ID or the host name is not a
 * dot-atom (RFC 5322 section 3.6.4), which would make the header invalid.
 *
 * Both append to a caller-owned strbuf; nothing else allocates or logs.
 */
#ifndef POSTERN_MAIL_DATE_H
#define POSTERN_MAIL_DATE_H

#include <time.h>

#include "strbuf.h"

void mail_date_format(strbuf *out, time_t when);
int  message_id_format(strbuf *out, time_t when, const char *queue_id, const char *hostname);

#endif

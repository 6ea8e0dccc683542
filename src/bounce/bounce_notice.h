/*
 * bounce_notice - compose an RFC 3464 delivery status notification.
 *
 * bounce_notice_compose(notice, put_line, context) writes the complete
 * notification, line by line without line terminators, through
 * put_line(context, line, len): the header (Received, Date, From, Subject,
 * To, Auto-Submitted, MIME-Version, a multipart/report Content-Type,
 * Content-Transfer-Encoding, Message-Id), then
 *   1. text/plain: the human-readable explanation and one line per
 *      recipient ("<rcpt> (expanded from <orig>): reason");
 *   2. message/delivery-status: Reporting-MTA, Original-Envelope-Id,
 *      X-Postern-Queue-ID, X-Postern-Sender, Arrival-Date, and per
 *      recipient Final-Recipient, Original-Recipient, Action, Status,
 *      Remote-MTA, Diagnostic-Code (and Will-Retry-Until for delays);
 *   3. the original message (message/rfc822) or its header
 *      (text/rfc822-headers), read from `notice->original` (a queue file
 *      opened by the caller; NULL leaves the part out).
 *
 * What is returned: the full message only for a failure notice whose
 * sender asked for it (RET=FULL, or no RET) and only when the message is
 * not larger than bounce_size_limit; the header otherwise (delay and
 * success notices, postmaster copies, larger messages). A double bounce to
 * the postmaster returns the failed notification in full.
 *
 * Every text that came from elsewhere (addresses, reasons, diagnostics) is
 * made printable ASCII first. The MIME boundary holds the original queue
 * ID, the time and 64 random bits, so the author of the original cannot
 * put it in the returned text. Returns 0, or -1 when the original could
 * not be read (the notice is then complete but its last part is cut short
 * with a note).
 */
#ifndef POSTERN_BOUNCE_NOTICE_H
#define POSTERN_BOUNCE_NOTICE_H

#include <stddef.h>
#include <time.h>

#include "dsn_log.h"
#include "queue_envelope.h"
#include "stream.h"

typedef enum bounce_kind {
    BOUNCE_KIND_FAILURE,
    BOUNCE_KIND_DELAY,
    BOUNCE_KIND_SUCCESS,
} bounce_kind;

typedef enum bounce_audience {
    BOUNCE_TO_SENDER,                   /* the original sender */
    BOUNCE_TO_POSTMASTER,               /* a copy for the postmaster */
    BOUNCE_TO_POSTMASTER_DOUBLE,        /* a notification that could not be delivered */
} bounce_audience;

typedef struct bounce_notice {
    bounce_kind kind;
    bounce_audience audience;
    const char *queue_id;               /* of the original */
    const char *new_queue_id;           /* of the notification */
    const char *recipient;              /* who gets the notification */
    const char *sender;                 /* original envelope sender */
    const char *dsn_envid;              /* "" when none */
    int     dsn_ret;                    /* DSN_RET_FULL, DSN_RET_HDRS or 0 */
    int     eight_bit;                  /* the original has 8-bit content */
    time_t  arrival;                    /* of the original */
    time_t  now;
    time_t  retry_until;                /* delay notices: when it will bounce */
    const dsn_outcome *const *outcomes;
    size_t  outcome_count;
    stream *original;                   /* queue file, or NULL */
    const queue_envelope *envelope;     /* of the original, when open */
} bounce_notice;

typedef void (*bounce_line_fn)(void *context, const char *line, size_t len);

int     bounce_notice_compose(const bounce_notice *notice, bounce_line_fn put_line, void *context);
const char *bounce_notice_subject(bounce_kind kind, bounce_audience audience);

#endif

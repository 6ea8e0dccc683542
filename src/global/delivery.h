/*
 * delivery - what every delivery agent does around the delivery itself.
 *
 *   delivery *d = delivery_start(client);          NULL: already answered
 *   ... read the content through d->qf->stream (queue_content_start/next) ...
 *   delivery_connected(d);                          optional: for delays=a/b/c/d
 *   delivery_sent(d, i, "local", "2.0.0", "delivered to mailbox", "delivered");
 *   delivery_deferred(d, i, relay, "4.4.1", "connect to ...: refused", NULL);
 *   delivery_bounced(d, i, relay, "5.1.1", "user unknown", &detail);
 *   delivery_finish(d, client, site_failure, dsn, reason);   replies, frees d
 *
 * delivery_start() reads the request from qmgr and opens the queue file
 * for reading and for marking recipients done; when the file is gone it
 * answers "deferred" itself and returns NULL.
 *
 * Each outcome function logs Postfix's line
 *   ID: to=<rcpt>, orig_to=<orig>, relay=R, delay=D, delays=a/b/c/d,
 *       dsn=X.Y.Z, status=sent|deferred|bounced (reason)
 * appends the outcome to the message's status log (defer/, bounce/, or
 * trace/ when the recipient asked NOTIFY=SUCCESS), and for a finished
 * recipient (sent or bounced) marks its record done in the queue file. If a
 * bounce cannot be recorded, or a done mark cannot be written, the
 * recipient is deferred instead (a later retry may deliver twice; nothing
 * is lost). Marks are not fsync'd (docs/queue-file.md: a lost mark costs a
 * duplicate, never a message). delivery_finish() tells qmgr
 * DELIVER_STAT_OK or DELIVER_STAT_DEFER.
 *
 * Expansions (local(8): aliases, .forward, :include:): one recipient of the
 * request may turn into several deliveries. delivery_member_sent() and
 * delivery_member_bounced() log the outcome for `address` with
 * to=<address>, orig_to=<the request recipient's original address> and
 * record it in trace/ or bounce/ under that address (-1: it could not be
 * recorded; the caller defers the recipient). delivery_member_deferred()
 * logs likewise and records the request recipient in defer/. None of them
 * marks the request recipient done: when all its members are finished,
 * delivery_done() marks it quietly (on failure it defers the recipient
 * itself and returns -1). A deferred member leaves the request recipient
 * for a later attempt, which delivers to every member again.
 *
 * `detail` (optional) adds what DSN reports: the remote MTA and its reply.
 * delivery_format_delay() renders seconds as Postfix logs them (two
 * significant digits, at most two decimals: 0.05, 1.2, 12, 318).
 */
#ifndef POSTERN_DELIVERY_H
#define POSTERN_DELIVERY_H

#include <stddef.h>
#include <sys/time.h>

#include "deliver_request.h"
#include "queue_file.h"
#include "stream.h"
#include "strbuf.h"

typedef struct delivery_detail {
    const char *mta_name;               /* remote host, or NULL */
    const char *diag_type;              /* "smtp", or NULL */
    const char *diag_text;              /* the remote reply, or NULL */
} delivery_detail;

typedef struct delivery {
    deliver_request *req;
    queue_file *qf;
    struct timeval conn_done;           /* zero until delivery_connected() */
    int     deferred;                   /* some recipient was deferred */
} delivery;

delivery *delivery_start(stream *client);
void    delivery_connected(delivery *d);
void    delivery_sent(delivery *d, size_t rcpt, const char *relay, const char *dsn,
                      const char *reason, const char *action);
void    delivery_deferred(delivery *d, size_t rcpt, const char *relay, const char *dsn,
                          const char *reason, const delivery_detail *detail);
void    delivery_bounced(delivery *d, size_t rcpt, const char *relay, const char *dsn,
                         const char *reason, const delivery_detail *detail);
int     delivery_member_sent(delivery *d, size_t rcpt, const char *address, const char *relay,
                             const char *dsn, const char *reason, const char *action);
int     delivery_member_bounced(delivery *d, size_t rcpt, const char *address,
                                const char *relay, const char *dsn, const char *reason);
void    delivery_member_deferred(delivery *d, size_t rcpt, const char *address,
                                 const char *relay, const char *dsn, const char *reason);
int     delivery_done(delivery *d, size_t rcpt);
int     delivery_finish(delivery *d, stream *client, int site_failure, const char *dsn,
                        const char *reason);
void    delivery_format_delay(strbuf *out, double seconds);

#endif

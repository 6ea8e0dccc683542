/*
 * bounce_clnt - ask the bounce service to send a notification
 * (docs/protocols.md, "bounce, defer, trace").
 *
 * bounce_clnt_request() sends one request (BOUNCE_FLUSH: non-delivery
 * notice from bounce/ID; BOUNCE_FLUSH_DEFER: the message expired, notice
 * from defer/ID; BOUNCE_WARN: delay warning from defer/ID; BOUNCE_TRACE:
 * success notice from trace/ID) about the message in queue_name/queue_id
 * to the service (`bounce`, or `defer`/`trace` as master.cf names them), and
 * returns 0 when the notification was queued (or none was needed), -1 when
 * the caller must try again later (service unreachable or said so).
 *
 * For an event loop (qmgr), the same conversation in two halves:
 * bounce_clnt_start() connects and sends the request, returning the stream
 * to wait on (readable: the reply is there), or NULL when the service
 * cannot be reached (logged); bounce_clnt_finish() reads the reply, closes
 * the stream and returns 0 or -1 as above. `timeout` bounds each read and
 * write (seconds).
 */
#ifndef POSTERN_BOUNCE_CLNT_H
#define POSTERN_BOUNCE_CLNT_H

#include "stream.h"

#define BOUNCE_FLUSH        "flush"
#define BOUNCE_FLUSH_DEFER  "flush_defer"
#define BOUNCE_WARN         "warn"
#define BOUNCE_TRACE        "trace"

typedef struct bounce_message {
    const char *queue_name;
    const char *queue_id;
    const char *encoding;
    int     smtputf8;
    const char *sender;
    const char *dsn_envid;
    int     dsn_ret;
} bounce_message;

int     bounce_clnt_request(const char *service, const char *request, const bounce_message *msg);
stream *bounce_clnt_start(const char *service, const char *request, const bounce_message *msg,
                          int timeout);
int     bounce_clnt_finish(stream *s, const char *service, const char *queue_id);

#endif

/*
 * error - the error and retry delivery agents (error(8)).
 *
 * One program serves two master.cf services. Each delivery request from
 * qmgr names a next hop that is the reason for non-delivery, optionally
 * prefixed with an RFC 3463 status code ("5.1.1 no such user"):
 *
 *   service "error"   bounces every recipient (default status 5.0.0),
 *   service "retry"   defers every recipient (default status 4.0.0).
 *
 * A code of the wrong class is ignored with Postfix's warning ("defer_append:
 * ignoring dsn code "5.3.0"") and the default is used. The per-recipient log
 * lines, status logs and done marks come from delivery.c, with relay=none.
 * A single server: one request per connection; a bad request is answered
 * (or dropped) by delivery_start and logged.
 */
#include <string.h>

#include "delivery.h"
#include "dsn_split.h"
#include "msg.h"
#include "server.h"
#include "strbuf.h"

#define RETRY_SERVICE  "retry"

typedef struct error_mode {
    const char *default_status;
    const char *append_name;            /* as Postfix names it in the warning */
    void    (*outcome)(delivery *d, size_t rcpt, const char *relay, const char *dsn,
                       const char *reason, const delivery_detail *detail);
} error_mode;

static const error_mode bounce_mode = {"5.0.0", "bounce_append", delivery_bounced};
static const error_mode defer_mode = {"4.0.0", "defer_append", delivery_deferred};

/* The status and reason for this request's recipients. */
static void request_status(const error_mode *mode, const char *nexthop, strbuf *status,
                           strbuf *reason)
{
    if (dsn_split(nexthop, mode->default_status, status, reason)
        && status->data[0] != mode->default_status[0]) {
        msg_warn("%s: ignoring dsn code \"%s\"", mode->append_name, status->data);
        strbuf_set(status, mode->default_status);
    }
}

static void error_service(stream *client, const server_ctx *ctx)
{
    const error_mode *mode = strcmp(ctx->service_name, RETRY_SERVICE) == 0
        ? &defer_mode : &bounce_mode;
    delivery *d = delivery_start(client);
    strbuf *status;
    strbuf *reason;

    if (d == NULL)
        return;
    status = strbuf_new(16);
    reason = strbuf_new(128);
    request_status(mode, d->req->nexthop, status, reason);
    for (size_t i = 0; i < d->req->rcpt_count; i++)
        mode->outcome(d, i, "none", status->data, reason->data, NULL);
    delivery_finish(d, client, 0, NULL, NULL);
    strbuf_free(status);
    strbuf_free(reason);
}

int main(int argc, char **argv)
{
    static const server_spec spec = {.service = error_service };

    single_server_main(argc, argv, &spec);
}

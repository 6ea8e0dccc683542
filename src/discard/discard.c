/*
 * discard - the discard delivery agent (discard(8)).
 *
 * Each delivery request from qmgr names a next hop that is the reason for
 * discarding, optionally prefixed with an RFC 3463 status code. Every
 * recipient is reported delivered ("status=sent (reason)", relay=none,
 * default status 2.0.0; a code of another class is ignored with Postfix's
 * warning "sent: ignoring dsn code"), marked done, and its success
 * notification recorded when it asked for one (NOTIFY=SUCCESS): all through
 * delivery.c. The message content is never read.
 */
#include "delivery.h"
#include "dsn_split.h"
#include "msg.h"
#include "server.h"
#include "strbuf.h"

#define DISCARD_STATUS  "2.0.0"

static void discard_service(stream *client, const server_ctx *ctx)
{
    delivery *d = delivery_start(client);
    strbuf *status;
    strbuf *reason;

    (void) ctx;
    if (d == NULL)
        return;
    status = strbuf_new(16);
    reason = strbuf_new(128);
    if (dsn_split(d->req->nexthop, DISCARD_STATUS, status, reason) && status->data[0] != '2') {
        msg_warn("sent: ignoring dsn code \"%s\"", status->data);
        strbuf_set(status, DISCARD_STATUS);
    }
    for (size_t i = 0; i < d->req->rcpt_count; i++)
        delivery_sent(d, i, "none", status->data, reason->data, "delivered");
    delivery_finish(d, client, 0, NULL, NULL);
    strbuf_free(status);
    strbuf_free(reason);
}

int main(int argc, char **argv)
{
    static const server_spec spec = {.service = discard_service };

    single_server_main(argc, argv, &spec);
}

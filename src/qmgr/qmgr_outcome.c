/*
 * qmgr_outcome - outcomes the queue manager decides without an agent.
 *
 * qmgr_outcome(message, rcpt, count, kind, dsn, reason) defers (QMGR_DEFER)
 * or bounces (QMGR_BOUNCE) the given recipients of an active message:
 * recipients of a dead destination or transport ("delivery temporarily
 * suspended: ..."), addresses trivial-rewrite could not resolve or
 * rejected. It goes through delivery.c, so the log line ("ID: to=<...>,
 * relay=none, delay=..., dsn=..., status=deferred (...)"), the status log
 * record and the done mark are exactly what an agent produces. Deferring
 * sets message->deferred. The queue file is opened for the marks (not
 * fsync'd, as an agent's: docs/queue-file.md). A bounce that cannot be recorded
 * becomes a deferral (delivery.c), so nothing is lost.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "delivery.h"
#include "mem.h"
#include "msg.h"
#include "qmgr.h"

static const char *attr_or_empty(const qmgr_message *message, const char *name)
{
    const char *value = queue_envelope_attr(&message->env, name);

    return value ? value : "";
}

/* A request describing the message, borrowing the message's strings. */
static void describe(deliver_request *req, const qmgr_message *message, const qmgr_rcpt *rcpt,
                     size_t count)
{
    const char *ident = attr_or_empty(message, "log_ident");

    req->queue_name = (char *) QUEUE_ACTIVE;
    req->queue_id = (char *) message->id;
    req->log_ident = (char *) (*ident ? ident : message->id);
    req->sender = message->env.sender;
    req->nexthop = (char *) "";
    req->arrival_time = message->env.arrival;
    req->active_time = message->active_time;
    gettimeofday(&req->dispatch_time, NULL);
    req->agent_time = req->dispatch_time;
    req->rcpt = xcalloc(count, sizeof(deliver_recipient));
    req->rcpt_count = count;
    for (size_t i = 0; i < count; i++) {
        const queue_recipient *qr = &message->env.recipients[rcpt[i].index];

        req->rcpt[i].address = rcpt[i].address;
        req->rcpt[i].orig_rcpt = qr->orig_rcpt;
        req->rcpt[i].dsn_orcpt = qr->dsn_orcpt;
        req->rcpt[i].dsn_notify = qr->dsn_notify;
        req->rcpt[i].offset = (long) qr->offset;
    }
}

void qmgr_outcome(qmgr_message *message, const qmgr_rcpt *rcpt, size_t count,
                  qmgr_outcome_kind kind, const char *dsn, const char *reason)
{
    deliver_request req = {0};
    delivery d = {.req = &req };
    strbuf *why = strbuf_new(64);

    if (count == 0) {
        strbuf_free(why);
        return;
    }
    describe(&req, message, rcpt, count);
    if (kind == QMGR_BOUNCE
        && (d.qf = queue_file_open(QUEUE_ACTIVE, message->id, O_RDWR, why)) == NULL) {
        msg_warn("%s: %s", message->id, why->data);
        kind = QMGR_DEFER;
    }
    for (size_t i = 0; i < count; i++) {
        if (kind == QMGR_BOUNCE)
            delivery_bounced(&d, i, "none", dsn, reason, NULL);
        else
            delivery_deferred(&d, i, "none", dsn, reason, NULL);
    }
    if (d.deferred)
        message->deferred = 1;
    if (d.qf)
        queue_file_close(d.qf);
    free(req.rcpt);
    strbuf_free(why);
}

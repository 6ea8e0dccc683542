/*
 * local_forward - deliveries local(8) hands on: remote members of an
 * expansion (aliases, .forward, luser_relay) are resubmitted through
 * cleanup as one new message per sender (the original sender, or the
 * owner-alias of a list), with Delivered-To: prepended so a loop comes back
 * recognisably; mailbox_transport and fallback_transport pass the
 * recipient to another delivery agent with a delivery request of its own
 * (the other agent logs and marks it, as qmgr's agents do).
 */
#include <stdlib.h>
#include <string.h>

#include "cleanup_clnt.h"
#include "deliver_request.h"
#include "local.h"
#include "mail_addr.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "queue_envelope.h"
#include "record.h"

void local_forward_add(local_ctx *ctx, const local_level *level, const char *address)
{
    local_forward *item;

    if (local_seen(ctx, "forward", address))
        return;
    ctx->forward = xreallocarray(ctx->forward, ctx->forward_count + 1, sizeof(local_forward));
    item = &ctx->forward[ctx->forward_count++];
    item->address = xstrdup(address);
    item->owner = xstrdup(level->owner ? level->owner : "");
    item->depth = level->depth;
}

static void put_attributes(stream *s, const deliver_request *req)
{
    if (*req->encoding)
        rec_printf(s, REC_TYPE_ATTR, "encoding=%s", req->encoding);
    if (req->smtputf8)
        rec_printf(s, REC_TYPE_ATTR, "smtputf8=%d", req->smtputf8);
    if (*req->dsn_envid)
        rec_printf(s, REC_TYPE_ATTR, "dsn_envid=%s", req->dsn_envid);
    if (req->dsn_ret)
        rec_printf(s, REC_TYPE_ATTR, "dsn_ret=%d", req->dsn_ret);
}

/* Copies the content records unchanged; 0, or -1 when the file is damaged. */
static int copy_content(local_ctx *ctx, stream *out)
{
    stream *queue = ctx->d->qf->stream;
    queue_envelope env;
    strbuf *data = strbuf_new(256);
    int     type;

    memset(&env, 0, sizeof(env));
    env.sizes.content_offset = ctx->d->req->data_offset;
    if (queue_content_start(queue, &env) < 0) {
        strbuf_free(data);
        return -1;
    }
    while ((type = queue_content_next(queue, data)) == REC_TYPE_LINE || type == REC_TYPE_PARTIAL)
        rec_put(out, type, data->data, data->len);
    strbuf_free(data);
    return type == REC_TYPE_EXTRACTED ? 0 : -1;
}

/* Submits one copy for the members whose owner is `owner`; the queue ID or NULL. */
static int submit(local_ctx *ctx, const char *owner, strbuf *queue_id, strbuf *why)
{
    const deliver_request *req = ctx->d->req;
    const deliver_recipient *rcpt = &req->rcpt[ctx->rcpt];
    cleanup_clnt *cl = cleanup_clnt_open(CLEANUP_FLAG_MAP_OK, why);
    strbuf *header = strbuf_new(64);
    int     status;

    if (cl == NULL)
        return CLEANUP_STAT_WRITE;
    strbuf_set(queue_id, cl->queue_id);
    put_attributes(cl->stream, req);
    rec_put_str(cl->stream, REC_TYPE_SENDER, *owner ? owner : req->sender);
    for (size_t i = 0; i < ctx->forward_count; i++) {
        if (strcmp(ctx->forward[i].owner, owner) != 0)
            continue;
        rec_put_str(cl->stream, REC_TYPE_ORIG_RCPT,
                    rcpt->orig_rcpt[0] ? rcpt->orig_rcpt : rcpt->address);
        if (rcpt->dsn_notify)
            rec_printf(cl->stream, REC_TYPE_DSN_NOTIFY, "%d", rcpt->dsn_notify);
        rec_put_str(cl->stream, REC_TYPE_RCPT, ctx->forward[i].address);
    }
    rec_put(cl->stream, REC_TYPE_MESSAGE, "", 0);
    if (local_wants_delivered_to("forward")) {
        strbuf_set(header, "Delivered-To: ");
        mail_addr_externalize(header, ctx->delivered_to, strlen(ctx->delivered_to));
        rec_put(cl->stream, REC_TYPE_LINE, header->data, header->len);
    }
    strbuf_free(header);
    if (copy_content(ctx, cl->stream) < 0) {
        cleanup_clnt_abort(cl);
        strbuf_set(why, "error reading message: queue file damaged");
        return CLEANUP_STAT_BAD;
    }
    rec_put(cl->stream, REC_TYPE_EXTRACTED, "", 0);
    rec_put(cl->stream, REC_TYPE_END, "", 0);
    status = cleanup_clnt_close(cl, why);
    return status;
}

static void report_group(local_ctx *ctx, const char *owner, int status, const char *queue_id,
                         const strbuf *why)
{
    strbuf *reason = strbuf_new(64);
    const char *dsn;
    const char *text;

    cleanup_stat_detail(status, &dsn, &text);
    if (status == 0)
        strbuf_printf(reason, "forwarded as %s", queue_id);
    else
        strbuf_printf(reason, "cannot forward: %s", why->len ? why->data : text);
    for (size_t i = 0; i < ctx->forward_count; i++) {
        local_level level = {.depth = ctx->forward[i].depth };

        if (strcmp(ctx->forward[i].owner, owner) != 0)
            continue;
        if (status == 0)
            local_report(ctx, &level, ctx->forward[i].address, LOCAL_SENT, "2.0.0",
                         reason->data, "relayed");
        else
            local_report(ctx, &level, ctx->forward[i].address,
                         dsn[0] == '5' ? LOCAL_BOUNCE : LOCAL_DEFER, dsn[0] == '5' ? dsn : "4.3.0",
                         reason->data, NULL);
    }
    strbuf_free(reason);
}

void local_forward_flush(local_ctx *ctx)
{
    strbuf *queue_id = strbuf_new(16);
    strbuf *why = strbuf_new(64);

    for (size_t i = 0; i < ctx->forward_count; i++) {
        int     first = 1;

        for (size_t j = 0; j < i; j++)
            if (strcmp(ctx->forward[j].owner, ctx->forward[i].owner) == 0)
                first = 0;
        if (!first)
            continue;
        strbuf_reset(queue_id);
        strbuf_reset(why);
        report_group(ctx, ctx->forward[i].owner,
                     submit(ctx, ctx->forward[i].owner, queue_id, why), queue_id->data, why);
    }
    for (size_t i = 0; i < ctx->forward_count; i++) {
        free(ctx->forward[i].address);
        free(ctx->forward[i].owner);
    }
    free(ctx->forward);
    ctx->forward = NULL;
    ctx->forward_count = 0;
    strbuf_free(queue_id);
    strbuf_free(why);
}

/* Hands the request recipient to another delivery agent, as qmgr would. */
static void pass_request(local_ctx *ctx, const char *transport)
{
    deliver_request copy = *ctx->d->req;
    deliver_recipient rcpt = ctx->d->req->rcpt[ctx->rcpt];
    strbuf *service = strbuf_from(transport);
    char   *colon = strchr(service->data, ':');
    deliver_reply reply;
    stream *agent;

    if (colon) {
        *colon = 0;
        copy.nexthop = colon + 1;
    }
    copy.rcpt = &rcpt;
    copy.rcpt_count = 1;
    deliver_reply_init(&reply);
    ctx->finished = 1;
    if ((agent = mail_connect(MAIL_CLASS_PRIVATE, service->data, var_ipc_timeout)) == NULL
        || deliver_request_send(agent, &copy) < 0 || deliver_reply_read(agent, &reply) < 0) {
        strbuf *why = strbuf_new(64);
        local_level top = {.depth = 0 };

        strbuf_printf(why, "mail transport unavailable: %s", service->data);
        ctx->finished = 0;
        local_report(ctx, &top, ctx->delivered_to, LOCAL_DEFER, "4.3.0", why->data, NULL);
        strbuf_free(why);
    } else if (reply.status != DELIVER_STAT_OK) {
        ctx->d->deferred = 1;
    }
    if (agent)
        stream_close(agent);
    deliver_reply_free(&reply);
    strbuf_free(service);
}

void local_deliver_transport(local_ctx *ctx, const local_level *level, const char *address,
                             const char *transport)
{
    if (level->depth == 0)
        pass_request(ctx, transport);
    else
        local_forward_add(ctx, level, address);
}

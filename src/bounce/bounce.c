/*
 * bounce - the bounce, defer and trace services (bounce(8)); docs/bounce.md.
 *
 * One program behind three master.cf services. qmgr sends one request per
 * connection (docs/protocols.md, "bounce, defer, trace"): "flush" (bounce/ID:
 * recipients that failed), "flush_defer" (defer/ID of an expired message:
 * every recipient failed), "warn" (defer/ID: a delay warning) and "trace"
 * (trace/ID: NOTIFY=SUCCESS reports). The reply is status 0 when the
 * notifications were queued or none was due, 1 when qmgr must try again
 * (cleanup unreachable, or it refused the notification). After a
 * successful "flush" or "trace" the log is removed.
 *
 * Who is told (the loop rules):
 *   - original sender is the double bounce address: nothing is sent ("ID:
 *     undeliverable postmaster notification discarded" for failures);
 *   - null sender (the message was itself a notification): a failure goes to
 *     2bounce_notice_recipient, from the double bounce address, only when
 *     notify_classes has 2bounce (or bounce); otherwise it is dropped;
 *   - anyone else gets a notification from the null sender with the
 *     recipients whose NOTIFY asks for it (failures and delays: NOTIFY
 *     unset, or FAILURE / DELAY; successes: SUCCESS; NEVER: nothing), and
 *     with notify_classes bounce / delay the postmaster gets a copy (header
 *     only) from the double bounce address.
 * Each notification queued is logged as Postfix does: "ID: sender
 * non-delivery notification: NEWID" (also "sender delay notification",
 * "sender delivery status notification", "postmaster non-delivery
 * notification", "postmaster delay notification").
 *
 * Notifications are composed by bounce_notice.c and handed to cleanup
 * (cleanup_clnt) as a new message. Nothing in a request, log or queue file
 * is trusted: the request is read strictly and checked, status logs are
 * read by dsn_log_read, the original through queue_envelope_read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attr.h"
#include "bounce_clnt.h"
#include "bounce_notice.h"
#include "cleanup_clnt.h"
#include "dsn.h"
#include "dsn_log.h"
#include "htable.h"
#include "mail_notify.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "queue_envelope.h"
#include "record.h"
#include "server.h"

#define BOUNCE_STAT_OK     0
#define BOUNCE_STAT_RETRY  1

typedef struct bounce_request {
    strbuf *request;
    strbuf *queue_name;
    strbuf *queue_id;
    strbuf *encoding;
    strbuf *sender;
    strbuf *dsn_envid;
    int     smtputf8;
    int     dsn_ret;
} bounce_request;

typedef struct bounce_action {
    const char *request;
    bounce_kind kind;
    const char *log_queue;
    int     remove_log;                 /* after the notifications are queued */
} bounce_action;

static const bounce_action actions[] = {
    {BOUNCE_FLUSH, BOUNCE_KIND_FAILURE, QUEUE_BOUNCE, 1},
    {BOUNCE_FLUSH_DEFER, BOUNCE_KIND_FAILURE, QUEUE_DEFER, 0},
    {BOUNCE_WARN, BOUNCE_KIND_DELAY, QUEUE_DEFER, 0},
    {BOUNCE_TRACE, BOUNCE_KIND_SUCCESS, QUEUE_TRACE, 1},
};

/* The original message: its queue file and envelope, when still there. */
typedef struct original {
    queue_file *qf;
    queue_envelope env;
    int     have_env;
} original;

/* Submission ----------------------------------------------------------- */

static void put_line(void *context, const char *line, size_t len)
{
    rec_put((stream *) context, REC_TYPE_LINE, line, len);
}

static const char *notice_name(bounce_kind kind)
{
    return kind == BOUNCE_KIND_FAILURE ? "non-delivery"
        : kind == BOUNCE_KIND_DELAY ? "delay" : "delivery status";
}

/* Queues one notification; 0 or -1. */
static int submit(bounce_notice *n, const char *envelope_sender)
{
    strbuf *why = strbuf_new(64);
    char    new_id[QUEUE_ID_MAX + 1];
    cleanup_clnt *cl = cleanup_clnt_open(CLEANUP_FLAG_MAP_OK, why);
    int     status;

    if (cl == NULL) {
        msg_warn("%s: cannot send notification: %s", n->queue_id, why->data);
        strbuf_free(why);
        return -1;
    }
    snprintf(new_id, sizeof(new_id), "%s", cl->queue_id);
    n->new_queue_id = new_id;
    rec_put_str(cl->stream, REC_TYPE_ATTR, "rewrite_context=local");
    rec_put_str(cl->stream, REC_TYPE_ATTR, "trace_flags=1");
    rec_printf(cl->stream, REC_TYPE_ATTR, "encoding=%s", n->eight_bit ? "8bitmime" : "7bit");
    rec_put_str(cl->stream, REC_TYPE_SENDER, envelope_sender);
    rec_put_str(cl->stream, REC_TYPE_RCPT, n->recipient);
    rec_put(cl->stream, REC_TYPE_MESSAGE, "", 0);
    (void) bounce_notice_compose(n, put_line, cl->stream);
    rec_put(cl->stream, REC_TYPE_EXTRACTED, "", 0);
    rec_put(cl->stream, REC_TYPE_END, "", 0);
    if ((status = cleanup_clnt_close(cl, why)) != CLEANUP_STAT_OK) {
        msg_warn("%s: notification not queued: %s", n->queue_id,
                 why->len ? why->data : "cleanup error");
        strbuf_free(why);
        return -1;
    }
    msg_info("%s: %s %s notification: %s", n->queue_id,
             n->audience == BOUNCE_TO_SENDER ? "sender" : "postmaster",
             notice_name(n->kind), new_id);
    strbuf_free(why);
    return 0;
}

/* Choosing recipients -------------------------------------------------- */

static int wants_notice(const dsn_outcome *o, bounce_kind kind)
{
    int     notify = o->dsn_notify;

    switch (kind) {
    case BOUNCE_KIND_SUCCESS:
        return (notify & DSN_NOTIFY_SUCCESS) != 0;
    case BOUNCE_KIND_DELAY:
        return notify == 0 || (notify & DSN_NOTIFY_DELAY);
    default:
        return notify == 0 || (notify & DSN_NOTIFY_FAILURE);
    }
}

static void outcome_key(strbuf *key, const dsn_outcome *o)
{
    strbuf_printf(key, "%ld %s", o->offset, o->recipient);
}

/* The outcomes to report: the last record per recipient record, optionally
 * only those whose NOTIFY asks for this kind. The caller frees the array. */
static const dsn_outcome **select_outcomes(const dsn_outcome_list *list, bounce_kind kind,
                                           int by_notify, size_t *count)
{
    const dsn_outcome **chosen = xcalloc(list->count ? list->count : 1, sizeof(*chosen));
    htable *last = htable_new(list->count);
    strbuf *key = strbuf_new(64);

    for (size_t i = 0; i < list->count; i++) {
        outcome_key(key, &list->items[i]);
        htable_put(last, key->data, (void *) &list->items[i], NULL);
    }
    *count = 0;
    for (size_t i = 0; i < list->count; i++) {
        const dsn_outcome *o = &list->items[i];

        outcome_key(key, o);
        if (htable_get(last, key->data) == o && (!by_notify || wants_notice(o, kind)))
            chosen[(*count)++] = o;
    }
    htable_free(last, NULL);
    strbuf_free(key);
    return chosen;
}

/* Notifications -------------------------------------------------------- */

static void notice_init(bounce_notice *n, const bounce_request *req, bounce_kind kind,
                        const original *orig)
{
    time_t  now = time(NULL);

    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->queue_id = req->queue_id->data;
    n->sender = req->sender->data;
    n->dsn_envid = req->dsn_envid->data;
    n->dsn_ret = req->dsn_ret;
    n->now = now;
    n->arrival = orig->have_env ? orig->env.arrival.tv_sec : now;
    n->retry_until = n->arrival + var_maximal_queue_lifetime;
    n->eight_bit = strcmp(req->encoding->data, "8bitmime") == 0
        || (orig->have_env && (orig->env.sizes.flags & QUEUE_FLAG_8BIT));
    if (orig->have_env) {
        n->original = orig->qf->stream;
        n->envelope = &orig->env;
    }
}

static int notify_postmaster(bounce_notice *n, bounce_audience audience, const char *recipient,
                             const dsn_outcome **all, size_t count)
{
    strbuf *double_bounce = strbuf_new(64);
    int     rc;

    double_bounce_address(double_bounce);
    n->audience = audience;
    n->recipient = recipient;
    n->outcomes = all;
    n->outcome_count = count;
    rc = submit(n, double_bounce->data);
    strbuf_free(double_bounce);
    return rc;
}

/* A failed notification: to the postmaster, if notify_classes says so. */
static int notify_double_bounce(bounce_notice *n, const dsn_outcome_list *list)
{
    size_t  count;
    const dsn_outcome **all;
    int     rc = 0;

    if (n->kind != BOUNCE_KIND_FAILURE
        || !(notify_class_mask(var_notify_classes) & NOTIFY_CLASS_2BOUNCE))
        return 0;
    all = select_outcomes(list, n->kind, 0, &count);
    rc = notify_postmaster(n, BOUNCE_TO_POSTMASTER_DOUBLE, var_2bounce_notice_recipient,
                           all, count);
    free(all);
    return rc;
}

static void copy_to_postmaster(bounce_notice *n, const dsn_outcome_list *list)
{
    int     mask = notify_class_mask(var_notify_classes);
    size_t  count;
    const dsn_outcome **all;

    if (n->kind == BOUNCE_KIND_FAILURE && (mask & NOTIFY_CLASS_BOUNCE)) {
        all = select_outcomes(list, n->kind, 0, &count);
        (void) notify_postmaster(n, BOUNCE_TO_POSTMASTER, var_bounce_notice_recipient, all, count);
        free(all);
    } else if (n->kind == BOUNCE_KIND_DELAY && (mask & NOTIFY_CLASS_DELAY)) {
        all = select_outcomes(list, n->kind, 0, &count);
        (void) notify_postmaster(n, BOUNCE_TO_POSTMASTER, var_delay_notice_recipient, all, count);
        free(all);
    }
}

static int notify(bounce_notice *n, const dsn_outcome_list *list)
{
    const dsn_outcome **chosen;
    size_t  count;
    int     rc = 0;

    if (is_double_bounce_address(n->sender)) {
        if (n->kind == BOUNCE_KIND_FAILURE)
            msg_warn("%s: undeliverable postmaster notification discarded", n->queue_id);
        return 0;
    }
    if (*n->sender == 0)
        return notify_double_bounce(n, list);
    chosen = select_outcomes(list, n->kind, 1, &count);
    if (count > 0) {
        n->audience = BOUNCE_TO_SENDER;
        n->recipient = n->sender;
        n->outcomes = chosen;
        n->outcome_count = count;
        rc = submit(n, "");
    }
    free(chosen);
    if (rc == 0)
        copy_to_postmaster(n, list);
    return rc;
}

/* Requests ------------------------------------------------------------- */

static void original_open(original *orig, const bounce_request *req)
{
    strbuf *why = strbuf_new(64);

    memset(orig, 0, sizeof(*orig));
    orig->qf = queue_file_open(req->queue_name->data, req->queue_id->data, O_RDONLY, why);
    if (orig->qf == NULL)
        msg_warn("%s: %s", req->queue_id->data, why->data);
    else if (queue_envelope_read(orig->qf->stream, &orig->env, 0, why) < 0)
        msg_warn("%s: original message unusable: %s", req->queue_id->data, why->data);
    else
        orig->have_env = 1;
    strbuf_free(why);
}

static void original_close(original *orig)
{
    if (orig->have_env)
        queue_envelope_free(&orig->env);
    if (orig->qf)
        queue_file_close(orig->qf);
}

static int handle(const bounce_request *req, const bounce_action *action)
{
    dsn_outcome_list *list = dsn_log_read(action->log_queue, req->queue_id->data);
    int     status = BOUNCE_STAT_OK;

    if (list->count > 0) {
        original orig;
        bounce_notice n;

        original_open(&orig, req);
        notice_init(&n, req, action->kind, &orig);
        if (notify(&n, list) < 0)
            status = BOUNCE_STAT_RETRY;
        original_close(&orig);
    }
    if (status == BOUNCE_STAT_OK && action->remove_log
        && queue_file_remove(action->log_queue, req->queue_id->data) < 0 && errno != ENOENT)
        msg_warn("%s: remove %s log: %m", req->queue_id->data, action->log_queue);
    dsn_outcome_list_free(list);
    return status;
}

static const bounce_action *find_action(const char *request)
{
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(actions[i].request, request) == 0)
            return &actions[i];
    return NULL;
}

static void request_init(bounce_request *req)
{
    req->request = strbuf_new(16);
    req->queue_name = strbuf_new(16);
    req->queue_id = strbuf_new(16);
    req->encoding = strbuf_new(16);
    req->sender = strbuf_new(64);
    req->dsn_envid = strbuf_new(16);
    req->smtputf8 = 0;
    req->dsn_ret = 0;
}

static void request_free(bounce_request *req)
{
    strbuf_free(req->request);
    strbuf_free(req->queue_name);
    strbuf_free(req->queue_id);
    strbuf_free(req->encoding);
    strbuf_free(req->sender);
    strbuf_free(req->dsn_envid);
}

static int request_read(stream *client, bounce_request *req)
{
    attr_spec spec[] = {
        ATTR_STR("request", req->request),
        ATTR_STR("queue_name", req->queue_name),
        ATTR_STR("queue_id", req->queue_id),
        ATTR_STR("encoding", req->encoding),
        ATTR_INT("smtputf8", &req->smtputf8),
        ATTR_STR("sender", req->sender),
        ATTR_STR("dsn_envid", req->dsn_envid),
        ATTR_INT("dsn_ret", &req->dsn_ret),
        ATTR_END,
    };

    if (attr_scan(client, 0, spec) < 0)
        return -1;
    if (!strbuf_is_clean_text(req->sender))
        return -1;
    return queue_id_valid(req->queue_id->data) && queue_name_valid(req->queue_name->data)
        ? 0 : -1;
}

static void bounce_service(stream *client, const server_ctx *ctx)
{
    bounce_request req;
    const bounce_action *action = NULL;
    int     status = BOUNCE_STAT_RETRY;

    (void) ctx;
    request_init(&req);
    if (request_read(client, &req) < 0
        || (action = find_action(req.request->data)) == NULL) {
        msg_warn("malformed request from the queue manager");
    } else {
        status = handle(&req, action);
    }
    if (action != NULL || stream_status(client) == 0) {
        attr_put_int(client, "status", status);
        (void) attr_end(client);
    }
    request_free(&req);
}

int main(int argc, char **argv)
{
    static const server_spec spec = {.service = bounce_service };

    single_server_main(argc, argv, &spec);
}

/*
 * qmgr_sched - transports, destinations, entries and the conversations
 * with delivery agents. See qmgr.h and docs/qmgr.md.
 *
 * A transport is a master.cf service name (smtp, local, error, ...). Its
 * destinations ("queues") are next hops, or next hop and recipient when the
 * transport's recipient limit is 1. A destination holds entries: up to
 * <transport>_destination_recipient_limit recipients of one message each.
 *
 * The scheduler visits every transport that is not dead and, while fewer
 * than QMGR_CONNECT_MAX of its conversations wait for an agent to say
 * "ready", picks the next destination in round-robin order that has work,
 * is alive, is below its concurrency window and past its rate delay, and
 * starts one delivery of its oldest entry. The window starts at the
 * initial concurrency and grows by one with each delivery that did not
 * fail the site, up to <transport>_destination_concurrency_limit.
 *
 * A conversation is non-blocking: qmgr connects to private/<transport>,
 * writes the request at once, and waits (libevent) for the agent's ready
 * frame and then its reply. Outcomes:
 *   - reply, no site failure: the entry is done (the agent logged and
 *     recorded every recipient); a deferral marks the message deferred;
 *   - reply with site_failure: the destination is dead for
 *     minimal_backoff_time: its waiting entries, and every recipient for it
 *     until then, are deferred at once ("delivery temporarily suspended:
 *     REASON"), so one failed connection does not cost each message a
 *     timeout;
 *   - no socket, or the agent broke the conversation: the transport is dead
 *     for transport_retry_time ("mail transport unavailable" / "unknown
 *     mail transport error") and its waiting entries are deferred.
 * qmgr_sched_forget_dead() ("F" trigger) revives everything at once.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "deliver_request.h"
#include "dsn_log.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "qmgr.h"
#include "server.h"

#define QMGR_CONNECT_MAX          2     /* per transport, waiting for "ready" */
#define QMGR_SUSPENDED            "delivery temporarily suspended"
#define QMGR_UNAVAILABLE          "mail transport unavailable"
#define QMGR_AGENT_ERROR          "unknown mail transport error"

typedef struct qmgr_delivery {
    qmgr_entry *entry;
    stream *stream;
    struct event *event;
} qmgr_delivery;

static htable *transport_table;
static qmgr_transport *transport_list;
static struct event *schedule_event;
static struct event *rate_timer;
static qmgr_queue **filled;             /* destinations given entries by the load in progress */
static size_t filled_count;
static size_t filled_cap;

static void schedule(evutil_socket_t fd, short what, void *context);

void qmgr_sched_init(void)
{
    transport_table = htable_new(16);
    schedule_event = event_new(server_event_base(), -1, 0, schedule, NULL);
    rate_timer = evtimer_new(server_event_base(), schedule, NULL);
}

void qmgr_schedule_soon(void)
{
    event_active(schedule_event, 0, 0);
}

/* Transports ----------------------------------------------------------- */

static qmgr_transport *transport_get(const char *name)
{
    qmgr_transport *t = htable_get(transport_table, name);

    if (t)
        return t;
    t = xcalloc(1, sizeof(*t));
    t->name = xstrdup(name);
    t->concurrency_limit = qmgr_transport_setting(name, "destination_concurrency_limit",
                                                  var_default_destination_concurrency_limit);
    t->recipient_limit = qmgr_transport_setting(name, "destination_recipient_limit",
                                                var_default_destination_recipient_limit);
    t->initial_concurrency = qmgr_transport_setting(name, "initial_destination_concurrency",
                                                    var_initial_destination_concurrency);
    t->rate_delay = qmgr_transport_time_setting(name, "destination_rate_delay",
                                                var_default_destination_rate_delay);
    t->queues = htable_new(16);
    t->dead_dsn = strbuf_new(8);
    t->dead_reason = strbuf_new(64);
    t->next = transport_list;
    transport_list = t;
    htable_put(transport_table, name, t, NULL);
    return t;
}

static int transport_dead(qmgr_transport *t, time_t now)
{
    if (t->dead_until && now >= t->dead_until)
        t->dead_until = 0;
    return t->dead_until != 0;
}

/* Destinations --------------------------------------------------------- */

static int queue_dead(qmgr_queue *q, time_t now)
{
    if (q->dead_until && now >= q->dead_until)
        q->dead_until = 0;
    return q->dead_until != 0;
}

static void queue_unlink(qmgr_queue *q)
{
    qmgr_transport *t = q->transport;

    if (t->cursor == q)
        t->cursor = q->next;
    if (q->prev)
        q->prev->next = q->next;
    else
        t->head = q->next;
    if (q->next)
        q->next->prev = q->prev;
}

/* Frees a destination with nothing to do and nothing to remember. */
static void queue_release_if_idle(qmgr_queue *q, time_t now)
{
    if (q->todo_count || q->busy || q->filling || queue_dead(q, now))
        return;
    queue_unlink(q);
    htable_delete(q->transport->queues, q->name, NULL);
    free(q->name);
    free(q->nexthop);
    strbuf_free(q->dead_dsn);
    strbuf_free(q->dead_reason);
    free(q);
}

qmgr_queue *qmgr_queue_for(const char *transport, const char *nexthop, const char *recipient)
{
    qmgr_transport *t = transport_get(transport);
    strbuf *name = strbuf_new(64);
    qmgr_queue *q;

    qmgr_queue_name(name, nexthop, recipient, t->recipient_limit);
    if ((q = htable_get(t->queues, name->data)) == NULL) {
        q = xcalloc(1, sizeof(*q));
        q->name = xstrdup(name->data);
        q->nexthop = xstrdup(nexthop);
        q->transport = t;
        q->window = t->initial_concurrency;
        if (t->concurrency_limit > 0 && q->window > t->concurrency_limit)
            q->window = t->concurrency_limit;
        if (t->rate_delay > 0)
            q->window = 1;
        q->dead_dsn = strbuf_new(8);
        q->dead_reason = strbuf_new(64);
        q->next = t->head;
        if (t->head)
            t->head->prev = q;
        t->head = q;
        htable_put(t->queues, q->name, q, NULL);
    }
    strbuf_free(name);
    return q;
}

/* Entries -------------------------------------------------------------- */

static qmgr_entry *entry_new(qmgr_queue *q, qmgr_message *message)
{
    qmgr_entry *e = xcalloc(1, sizeof(*e));

    e->message = message;
    e->queue = q;
    message->refcount++;
    if (q->todo_tail)
        q->todo_tail->next = e;
    else
        q->todo_head = e;
    q->todo_tail = e;
    q->todo_count++;
    return e;
}

static qmgr_entry *todo_pop(qmgr_queue *q)
{
    qmgr_entry *e = q->todo_head;

    if (e) {
        q->todo_head = e->next;
        if (q->todo_head == NULL)
            q->todo_tail = NULL;
        q->todo_count--;
        e->next = NULL;
    }
    return e;
}

/* Frees an entry; the message learns that one more entry is finished. */
static void entry_done(qmgr_entry *e)
{
    qmgr_message *message = e->message;

    for (size_t i = 0; i < e->count; i++)
        free(e->rcpt[i].address);
    free(e->rcpt);
    free(e);
    qmgr_message_entry_done(message);
}

static void remember_filled(qmgr_queue *q)
{
    if (filled_count == filled_cap) {
        filled_cap = filled_cap ? filled_cap * 2 : 16;
        filled = xreallocarray(filled, filled_cap, sizeof(*filled));
    }
    filled[filled_count++] = q;
}

/* The reason recipients for a dead destination or transport are deferred with. */
static int dead_reason(qmgr_queue *q, time_t now, const char **dsn, const char **reason)
{
    if (transport_dead(q->transport, now)) {
        *dsn = q->transport->dead_dsn->data;
        *reason = q->transport->dead_reason->data;
        return 1;
    }
    if (queue_dead(q, now)) {
        *dsn = q->dead_dsn->data;
        *reason = q->dead_reason->data;
        return 1;
    }
    return 0;
}

void qmgr_queue_add_recipient(qmgr_queue *q, qmgr_message *message, size_t index,
                              const char *address)
{
    qmgr_entry *e = q->filling;
    const char *dsn;
    const char *reason;
    int     limit = q->transport->recipient_limit;

    if (dead_reason(q, time(NULL), &dsn, &reason)) {
        qmgr_rcpt rcpt = {.index = index,.address = (char *) address };

        qmgr_outcome(message, &rcpt, 1, QMGR_DEFER, dsn, reason);
        return;
    }
    if (e == NULL || (limit > 0 && e->count >= (size_t) limit) || e->count >= DELIVER_RCPT_MAX) {
        if (e == NULL)
            remember_filled(q);
        e = q->filling = entry_new(q, message);
    }
    if (e->count == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 4;
        e->rcpt = xreallocarray(e->rcpt, e->cap, sizeof(qmgr_rcpt));
    }
    e->rcpt[e->count].index = index;
    e->rcpt[e->count].address = xstrdup(address);
    e->count++;
}

void qmgr_sched_message_loaded(qmgr_message *message)
{
    (void) message;
    for (size_t i = 0; i < filled_count; i++)
        filled[i]->filling = NULL;
    filled_count = 0;
    qmgr_schedule_soon();
}

/* Defers every waiting entry of a destination. */
static void defer_todo(qmgr_queue *q, const char *dsn, const char *reason)
{
    qmgr_entry *e;

    while ((e = todo_pop(q)) != NULL) {
        qmgr_outcome(e->message, e->rcpt, e->count, QMGR_DEFER, dsn, reason);
        entry_done(e);
    }
}

static void queue_throttle(qmgr_queue *q, const char *dsn, const char *reason)
{
    q->dead_until = time(NULL) + var_minimal_backoff_time;
    strbuf_set(q->dead_dsn, dsn && dsn_status_valid(dsn) && *dsn == '4' ? dsn : "4.4.1");
    strbuf_printf(q->dead_reason, "%s: %s", QMGR_SUSPENDED,
                  reason && *reason ? reason : "destination unreachable");
    defer_todo(q, q->dead_dsn->data, q->dead_reason->data);
}

static void transport_throttle(qmgr_transport *t, const char *reason)
{
    t->dead_until = time(NULL) + var_transport_retry_time;
    strbuf_set(t->dead_dsn, "4.3.0");
    strbuf_set(t->dead_reason, reason);
    for (qmgr_queue *q = t->head; q; q = q->next)
        defer_todo(q, t->dead_dsn->data, t->dead_reason->data);
}

void qmgr_sched_forget_dead(void)
{
    for (qmgr_transport *t = transport_list; t; t = t->next) {
        t->dead_until = 0;
        for (qmgr_queue *q = t->head; q; q = q->next)
            q->dead_until = 0;
    }
    qmgr_sched_sweep();
    qmgr_schedule_soon();
}

/* Warns, at most every qmgr_clog_warn_time, when one destination holds at
 * least half of the full active queue. */
void qmgr_sched_clog_check(size_t active, size_t limit)
{
    static time_t last_warning;
    time_t  now = time(NULL);
    const qmgr_queue *worst = NULL;
    size_t  worst_count = 0;

    if (var_qmgr_clog_warn_time == 0 || now - last_warning < var_qmgr_clog_warn_time
        || active < limit)
        return;
    for (qmgr_transport *t = transport_list; t; t = t->next) {
        for (qmgr_queue *q = t->head; q; q = q->next) {
            if (q->todo_count + (size_t) q->busy > worst_count) {
                worst = q;
                worst_count = q->todo_count + (size_t) q->busy;
            }
        }
    }
    if (worst && worst_count * 2 >= limit) {
        msg_warn("mail for %s is using up %zu of %zu active queue entries",
                 worst->nexthop, worst_count, limit);
        last_warning = now;
    }
}

void qmgr_sched_sweep(void)
{
    time_t  now = time(NULL);

    for (qmgr_transport *t = transport_list; t; t = t->next) {
        qmgr_queue *next;

        for (qmgr_queue *q = t->head; q; q = next) {
            next = q->next;
            queue_release_if_idle(q, now);
        }
    }
}

/* Conversations with agents -------------------------------------------- */

static void delivery_free(qmgr_delivery *d)
{
    if (d->event)
        event_free(d->event);
    if (d->stream)
        stream_close(d->stream);
    free(d);
}

/* Ends a conversation: the destination has one delivery less. */
static void delivery_end(qmgr_delivery *d)
{
    qmgr_queue *q = d->entry->queue;
    qmgr_transport *t = q->transport;

    q->busy--;
    if (t->rate_delay > 0) {
        gettimeofday(&q->next_dispatch, NULL);
        q->next_dispatch.tv_sec += t->rate_delay;
    }
    entry_done(d->entry);
    delivery_free(d);
    queue_release_if_idle(q, time(NULL));
    qmgr_schedule_soon();
}

static const char *message_attr(const qmgr_message *message, const char *name)
{
    const char *value = queue_envelope_attr(&message->env, name);

    return value ? value : "";
}

static void build_request(deliver_request *req, const qmgr_entry *e)
{
    const qmgr_message *m = e->message;
    const char *ident = message_attr(m, "log_ident");
    const char *ret = message_attr(m, "dsn_ret");

    req->queue_name = (char *) QUEUE_ACTIVE;
    req->queue_id = (char *) m->id;
    req->data_offset = m->env.sizes.content_offset;
    req->data_size = m->env.sizes.message_size;
    req->nexthop = e->queue->nexthop;
    req->encoding = (char *) message_attr(m, "encoding");
    req->smtputf8 = strcmp(message_attr(m, "smtputf8"), "1") == 0;
    req->sender = m->env.sender;
    req->dsn_envid = (char *) message_attr(m, "dsn_envid");
    req->dsn_ret = (int) strtol(ret, NULL, 10) & 3;
    req->client_name = (char *) message_attr(m, "client_name");
    req->client_address = (char *) message_attr(m, "client_address");
    req->client_protocol = (char *) message_attr(m, "protocol");
    req->client_helo = (char *) message_attr(m, "helo_name");
    req->sasl_username = (char *) message_attr(m, "sasl_username");
    req->log_ident = (char *) (*ident ? ident : m->id);
    req->rewrite_context = (char *) message_attr(m, "rewrite_context");
    req->arrival_time = m->env.arrival;
    req->active_time = m->active_time;
    gettimeofday(&req->dispatch_time, NULL);
    req->rcpt = xcalloc(e->count, sizeof(deliver_recipient));
    req->rcpt_count = e->count;
    for (size_t i = 0; i < e->count; i++) {
        const queue_recipient *qr = &m->env.recipients[e->rcpt[i].index];

        req->rcpt[i].address = e->rcpt[i].address;
        req->rcpt[i].orig_rcpt = qr->orig_rcpt;
        req->rcpt[i].dsn_orcpt = qr->dsn_orcpt;
        req->rcpt[i].dsn_notify = qr->dsn_notify;
        req->rcpt[i].offset = (long) qr->offset;
    }
}

/*
 * The agent broke the conversation. Before the request was sent nothing
 * was tried, so the recipients are deferred here with the reason; after
 * it, nobody knows what the agent delivered or logged, so the message is
 * only marked for another pass, as Postfix does.
 */
static void agent_failed(qmgr_delivery *d, const char *reason, int request_sent)
{
    qmgr_entry *e = d->entry;
    qmgr_transport *t = e->queue->transport;

    if (request_sent)
        msg_warn("transport %s failure -- see a previous warning/fatal/panic logfile record "
                 "for the problem description", t->name);
    else
        qmgr_outcome(e->message, e->rcpt, e->count, QMGR_DEFER, "4.3.0", reason);
    e->message->deferred = 1;
    transport_throttle(t, reason);
    delivery_end(d);
}

static void agent_replied(evutil_socket_t fd, short what, void *context)
{
    qmgr_delivery *d = context;
    qmgr_queue *q = d->entry->queue;
    qmgr_transport *t = q->transport;
    deliver_reply reply;

    (void) fd;
    deliver_reply_init(&reply);
    if ((what & EV_TIMEOUT) || deliver_reply_read(d->stream, &reply) < 0) {
        deliver_reply_free(&reply);
        agent_failed(d, QMGR_AGENT_ERROR, 1);
        return;
    }
    if (reply.status != DELIVER_STAT_OK)
        d->entry->message->deferred = 1;
    if (reply.site_failure) {
        queue_throttle(q, reply.dsn->data, reply.reason->data);
    } else if (t->concurrency_limit == 0 || q->window < t->concurrency_limit) {
        if (t->rate_delay == 0)
            q->window++;
    }
    deliver_reply_free(&reply);
    delivery_end(d);
}

/* The agent took the connection: its ready frame, then (maybe already here) its reply. */
static void agent_ready(evutil_socket_t fd, short what, void *context)
{
    qmgr_delivery *d = context;
    qmgr_transport *t = d->entry->queue->transport;
    struct timeval timeout = {.tv_sec = var_daemon_timeout };

    t->connecting--;
    qmgr_schedule_soon();
    if ((what & EV_TIMEOUT) || deliver_ready_read(d->stream) < 0) {
        agent_failed(d, QMGR_UNAVAILABLE, 0);
        return;
    }
    event_free(d->event);
    d->event = event_new(server_event_base(), fd, EV_READ, agent_replied, d);
    event_add(d->event, &timeout);
    if (stream_pending(d->stream) > 0)
        event_active(d->event, EV_READ, 0);
}

/* Connects to the agent and writes the request at once (docs/protocols.md). */
static void start_delivery(qmgr_queue *q, qmgr_entry *e)
{
    qmgr_transport *t = q->transport;
    struct timeval timeout = {.tv_sec = var_daemon_timeout };
    deliver_request req = {0};
    qmgr_delivery *d;
    stream *s = mail_connect(MAIL_CLASS_PRIVATE, t->name, var_qmgr_ipc_timeout);
    int     written;

    if (s == NULL) {
        msg_warn("connect to transport private/%s: %s", t->name, strerror(errno));
        e->next = q->todo_head;         /* back in front: deferred with the rest */
        q->todo_head = e;
        if (q->todo_tail == NULL)
            q->todo_tail = e;
        q->todo_count++;
        transport_throttle(t, QMGR_UNAVAILABLE);
        return;
    }
    d = xcalloc(1, sizeof(*d));
    d->entry = e;
    d->stream = s;
    q->busy++;
    build_request(&req, e);
    written = deliver_request_write(s, &req);
    free(req.rcpt);
    if (written < 0) {
        agent_failed(d, QMGR_UNAVAILABLE, 0);
        return;
    }
    d->event = event_new(server_event_base(), s->fd, EV_READ, agent_ready, d);
    event_add(d->event, &timeout);
    t->connecting++;
}

/* The next destination of a transport that may start a delivery now. */
static qmgr_queue *pick_queue(qmgr_transport *t, const struct timeval *now, long *wait_ms)
{
    qmgr_queue *start = t->cursor ? t->cursor : t->head;
    qmgr_queue *q = start;

    if (q == NULL)
        return NULL;
    do {
        int     busy_ok = q->busy < q->window;

        if (q->todo_count && busy_ok && !queue_dead(q, now->tv_sec)) {
            long    ms = (q->next_dispatch.tv_sec - now->tv_sec) * 1000L
                + (q->next_dispatch.tv_usec - now->tv_usec) / 1000L;

            if (ms <= 0) {
                t->cursor = q->next;
                return q;
            }
            if (*wait_ms < 0 || ms < *wait_ms)
                *wait_ms = ms;
        }
        q = q->next ? q->next : t->head;
    } while (q != start);
    return NULL;
}

static void schedule(evutil_socket_t fd, short what, void *context)
{
    struct timeval now;
    long    wait_ms = -1;

    (void) fd;
    (void) what;
    (void) context;
    gettimeofday(&now, NULL);
    for (qmgr_transport *t = transport_list; t; t = t->next) {
        qmgr_queue *q;

        if (transport_dead(t, now.tv_sec))
            continue;
        while (t->connecting < QMGR_CONNECT_MAX && !transport_dead(t, now.tv_sec)
               && (q = pick_queue(t, &now, &wait_ms)) != NULL)
            start_delivery(q, todo_pop(q));
    }
    if (wait_ms >= 0) {
        struct timeval tv = {.tv_sec = wait_ms / 1000,.tv_usec = (wait_ms % 1000) * 1000 + 1000 };

        evtimer_add(rate_timer, &tv);
    }
}

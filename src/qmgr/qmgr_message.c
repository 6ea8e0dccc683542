/*
 * qmgr_message - one message's pass through the active queue. See qmgr.h.
 *
 * qmgr_message_load(from_queue, id, flush) moves the file to active/, reads
 * its envelope and walks its content with queue_envelope_read (a file that
 * does not parse, content included, goes to corrupt/ with a warning and is
 * forgotten: no delivery agent ever sends part of a damaged message),
 * logs "ID: from=<sender>, size=N, nrcpt=N (queue active)", removes the
 * defer log of the previous pass (so defer/ID always tells the latest
 * reasons), sets the W record of a new message (from incoming/, W still 0)
 * to arrival time + delay_warning_time when delay warnings are on, resolves
 * each recipient not yet done through trivial-rewrite and hands it to its
 * destination (qmgr_sched). Addresses that do not resolve are deferred
 * ("address resolver failure") or, for bad syntax, bounced; transports in
 * defer_transports are deferred unless the message came in with a flush.
 * Returns 0 when the message entered the active queue, -1 when it was
 * skipped (gone, corrupt).
 *
 * When the last entry of a message is done (qmgr_message_entry_done), the
 * pass ends, in Postfix's order (each request to the bounce service is
 * waited for by the event loop, never blocking qmgr; at most
 * QMGR_NOTIFY_MAX messages are at this stage at once):
 *   1. bounce/ID exists: ask the bounce service for the non-delivery
 *      notification (BOUNCE_FLUSH);
 *   2. some recipients remain: an expired message ("ID: from=<...>,
 *      status=expired, returned to sender") is returned with BOUNCE_FLUSH_DEFER
 *      and is then finished; otherwise a delay warning is sent when the W
 *      record's time has come (then W is set to 0);
 *   3. trace/ID exists: the success notification (BOUNCE_TRACE);
 *   4. a message with recipients left, or whose notification could not be
 *      handed over, moves to deferred/ with its retry time as mtime
 *      (qmgr_backoff); otherwise its logs and its file are removed
 *      ("ID: removed").
 * The file is removed last, so a crash at any point repeats a step
 * (possibly a notification or a delivery) but never loses mail.
 *
 * qmgr_message_recover() moves everything left in active/ by a previous
 * qmgr back to incoming/ at start-up.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "bounce_clnt.h"
#include "flush_clnt.h"
#include "mail_notify.h"
#include "mail_params.h"
#include "mail_sanitize.h"
#include "mem.h"
#include "msg.h"
#include "qmgr.h"
#include "queue_scan.h"
#include "record.h"
#include "rewrite_clnt.h"
#include "server.h"

#define WARN_DATA_LEN  15               /* the W record's data */

/* Loading -------------------------------------------------------------- */

static void save_corrupt(const char *id, const char *why)
{
    strbuf *error = strbuf_new(64);

    msg_warn("%s: %s", id, why);
    if (queue_file_move(QUEUE_ACTIVE, id, QUEUE_CORRUPT, error) < 0)
        msg_warn("%s: %s", id, error->data);
    else
        msg_warn("saving corrupt file \"%s\" from queue \"%s\" to queue \"%s\"", id,
                 QUEUE_ACTIVE, QUEUE_CORRUPT);
    strbuf_free(error);
}

static void log_arrival(const qmgr_message *m)
{
    strbuf *line = strbuf_new(128);
    long    nrcpt = m->env.sizes.recipient_count > 0
        ? m->env.sizes.recipient_count : (long) m->env.recipient_count;

    strbuf_printf(line, "%s: ", m->id);
    log_address(line, "from", m->env.sender, strlen(m->env.sender));
    strbuf_append_printf(line, ", size=%ld, nrcpt=%ld (queue active)",
                         m->env.sizes.message_size, nrcpt);
    msg_info("%s", line->data);
    strbuf_free(line);
}

static int in_list(const char *list, const char *word)
{
    argv_t *items = argv_split(list, ARGV_LIST_DELIMITERS);
    int     found = argv_contains(items, word);

    argv_free(items);
    return found;
}

/* Resolves one recipient and hands it to its destination, or decides it here. */
static void route_recipient(qmgr_message *m, size_t index, resolve_reply *reply, int flush,
                            int *resolver_down)
{
    const char *address = m->env.recipients[index].address;
    qmgr_rcpt rcpt = {.index = index,.address = (char *) address };

    if (*resolver_down || resolve_clnt(m->env.sender, address, reply) < 0) {
        *resolver_down = 1;
        qmgr_outcome(m, &rcpt, 1, QMGR_DEFER, "4.3.0", "address resolver failure");
    } else if (reply->flags & RESOLVE_FLAG_FAIL || reply->transport->len == 0) {
        qmgr_outcome(m, &rcpt, 1, QMGR_DEFER, "4.3.0", "address resolver failure");
    } else if (reply->flags & RESOLVE_FLAG_ERROR) {
        qmgr_outcome(m, &rcpt, 1, QMGR_BOUNCE, "5.1.3", "bad address syntax");
    } else if (!flush && *var_defer_transports
               && in_list(var_defer_transports, reply->transport->data)) {
        qmgr_outcome(m, &rcpt, 1, QMGR_DEFER, "4.3.2", "deferred transport");
    } else {
        qmgr_queue *q = qmgr_queue_for(reply->transport->data, reply->nexthop->data,
                                       reply->recipient->data);

        qmgr_queue_add_recipient(q, m, index, reply->recipient->data);
    }
}

static void route_recipients(qmgr_message *m, int flush)
{
    resolve_reply reply;
    int     resolver_down = 0;

    resolve_reply_init(&reply);
    m->loading = 1;
    for (size_t i = 0; i < m->env.recipient_count; i++) {
        if (m->env.recipients[i].done)
            continue;
        m->pending++;
        route_recipient(m, i, &reply, flush, &resolver_down);
    }
    m->loading = 0;
    resolve_reply_free(&reply);
    qmgr_rcpt_count += m->pending;
}

static void pass_end(qmgr_message *m);
static void write_warn_time(qmgr_message *m, long when);

int qmgr_message_load(const char *from_queue, const char *id, int flush)
{
    strbuf *why = strbuf_new(64);
    queue_file *qf;
    qmgr_message *m;

    if (queue_file_move(from_queue, id, QUEUE_ACTIVE, why) < 0) {
        if (errno != ENOENT)
            msg_warn("%s: %s", id, why->data);
        strbuf_free(why);
        return -1;
    }
    if ((qf = queue_file_open(QUEUE_ACTIVE, id, O_RDONLY, why)) == NULL) {
        msg_warn("%s: %s", id, why->data);
        strbuf_free(why);
        return -1;
    }
    m = xcalloc(1, sizeof(*m));
    snprintf(m->id, sizeof(m->id), "%s", id);
    if (queue_envelope_read(qf->stream, &m->env, QUEUE_READ_CONTENT, why) < 0) {
        queue_file_close(qf);
        save_corrupt(id, why->data);
        free(m);
        strbuf_free(why);
        return -1;
    }
    queue_file_close(qf);
    strbuf_free(why);
    gettimeofday(&m->active_time, NULL);
    qmgr_active_count++;
    log_arrival(m);
    if (strcmp(from_queue, QUEUE_INCOMING) == 0 && m->env.warn_time == 0
        && var_delay_warning_time > 0)
        write_warn_time(m, (long) m->env.arrival.tv_sec + var_delay_warning_time);
    if (queue_file_remove(QUEUE_DEFER, id) < 0 && errno != ENOENT)
        msg_warn("%s: remove defer log: %m", id);
    route_recipients(m, flush);
    qmgr_sched_message_loaded(m);
    if (m->refcount == 0)
        pass_end(m);
    return 0;
}

/* End of a pass -------------------------------------------------------- */

static int log_exists(const char *log_queue, const char *id)
{
    strbuf *path = strbuf_new(64);
    struct stat st;
    int     found;

    queue_path(path, log_queue, id);
    found = lstat(path->data, &st) == 0;
    strbuf_free(path);
    return found;
}

static void describe(bounce_message *bm, const qmgr_message *m)
{
    const char *ret = queue_envelope_attr(&m->env, "dsn_ret");
    const char *utf8 = queue_envelope_attr(&m->env, "smtputf8");

    bm->queue_name = QUEUE_ACTIVE;
    bm->queue_id = m->id;
    bm->encoding = queue_envelope_attr(&m->env, "encoding");
    bm->smtputf8 = utf8 && strcmp(utf8, "1") == 0;
    bm->sender = m->env.sender;
    bm->dsn_envid = queue_envelope_attr(&m->env, "dsn_envid");
    bm->dsn_ret = ret ? (int) strtol(ret, NULL, 10) & 3 : 0;
}

static int expired(const qmgr_message *m, time_t now)
{
    strbuf *double_bounce = strbuf_new(64);
    int     lifetime;

    double_bounce_address(double_bounce);
    lifetime = qmgr_lifetime(m->env.sender, double_bounce->data, var_maximal_queue_lifetime,
                             var_bounce_queue_lifetime);
    strbuf_free(double_bounce);
    return now >= m->env.arrival.tv_sec + lifetime;
}

/* Rewrites the W record's time in place (0: no warning due). */
static void write_warn_time(qmgr_message *m, long when)
{
    strbuf *why = strbuf_new(64);
    char    text[32];
    queue_file *qf;
    off_t   where = m->env.warn_offset + (off_t) rec_header_size(WARN_DATA_LEN);

    if (m->env.warn_offset <= 0 || when < 0
        || snprintf(text, sizeof(text), "%*ld", WARN_DATA_LEN, when) != WARN_DATA_LEN) {
        strbuf_free(why);
        return;
    }
    if ((qf = queue_file_open(QUEUE_ACTIVE, m->id, O_RDWR, why)) == NULL) {
        msg_warn("%s: %s", m->id, why->data);
    } else {
        if (pwrite(qf->stream->fd, text, WARN_DATA_LEN, where) != WARN_DATA_LEN
            || fsync(qf->stream->fd) < 0)
            msg_warn("%s: update delay warning time: %m", m->id);
        else
            m->env.warn_time = when;
        queue_file_close(qf);
    }
    strbuf_free(why);
}

static void log_expired(const qmgr_message *m)
{
    strbuf *line = strbuf_new(128);

    strbuf_printf(line, "%s: ", m->id);
    log_address(line, "from", m->env.sender, strlen(m->env.sender));
    strbuf_append_str(line, ", status=expired, returned to sender");
    msg_info("%s", line->data);
    strbuf_free(line);
}

/* Tells the flush service which sites this deferred message waits for. */
static void register_sites(const qmgr_message *m)
{
    argv_t *sites = argv_new(4);

    for (size_t i = 0; i < m->env.recipient_count; i++) {
        const char *at = strrchr(m->env.recipients[i].address, '@');

        if (m->env.recipients[i].done || at == NULL || at[1] == 0 || argv_contains(sites, at + 1))
            continue;
        argv_add(sites, at + 1);
        (void) flush_clnt_add(at + 1, m->id);
    }
    argv_free(sites);
}

static void defer_message(const qmgr_message *m, time_t now)
{
    strbuf *path = strbuf_new(64);
    strbuf *why = strbuf_new(64);
    int     delay = qmgr_backoff(m->env.arrival.tv_sec, now, var_minimal_backoff_time,
                                 var_maximal_backoff_time);
    struct timeval times[2] = {{.tv_sec = now}, {.tv_sec = now + delay}};

    queue_path(path, QUEUE_ACTIVE, m->id);
    if (utimes(path->data, times) < 0)
        msg_warn("%s: set retry time: %m", m->id);
    if (queue_file_move(QUEUE_ACTIVE, m->id, QUEUE_DEFERRED, why) < 0)
        msg_warn("%s: %s", m->id, why->data);
    else if (*var_fast_flush_domains)
        register_sites(m);
    strbuf_free(path);
    strbuf_free(why);
}

static void remove_message(const qmgr_message *m)
{
    static const char *const logs[] = {QUEUE_DEFER, QUEUE_BOUNCE, QUEUE_TRACE};

    for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++)
        if (queue_file_remove(logs[i], m->id) < 0 && errno != ENOENT)
            msg_warn("%s: remove %s log: %m", m->id, logs[i]);
    if (queue_file_remove(QUEUE_ACTIVE, m->id) == 0)
        msg_info("%s: removed", m->id);
    else if (errno != ENOENT)
        msg_warn("%s: remove %s/%s: %m", m->id, QUEUE_ACTIVE, m->id);
}

static void message_free(qmgr_message *m)
{
    qmgr_active_count--;
    qmgr_rcpt_count -= m->pending;
    queue_envelope_free(&m->env);
    free(m);
    qmgr_message_released();
}

/*
 * The end of a pass runs as a sequence of steps, each possibly a request
 * to the bounce service that the event loop waits for; at most
 * QMGR_NOTIFY_MAX messages are in these steps at once, the others wait in
 * arrival order.
 */
enum pass_step { STEP_BOUNCE, STEP_EXPIRE_OR_WARN, STEP_TRACE, STEP_FINISH };

#define QMGR_NOTIFY_MAX  20

static int notifying;
static qmgr_message *waiting_head;
static qmgr_message *waiting_tail;

static void pass_continue(qmgr_message *m);

static void notice_done(evutil_socket_t fd, short what, void *context)
{
    qmgr_message *m = context;
    const char *service = m->step - 1 == STEP_BOUNCE ? var_bounce_service_name
        : m->step - 1 == STEP_TRACE ? var_trace_service_name : var_defer_service_name;
    int     ok;

    (void) fd;
    if (what & EV_TIMEOUT) {
        msg_warn("%s: no reply from %s service", m->id, service);
        stream_close(m->notify_stream);
        ok = 0;
    } else {
        ok = bounce_clnt_finish(m->notify_stream, service, m->id) == 0;
    }
    m->notify_stream = NULL;
    event_free(m->notify_event);
    m->notify_event = NULL;
    switch (m->step - 1) {
    case STEP_EXPIRE_OR_WARN:
        if (ok && m->expiring)
            m->remaining = 0;
        else if (ok)
            write_warn_time(m, 0);
        break;
    default:
        if (!ok)
            m->notice_failed = 1;
        break;
    }
    pass_continue(m);
}

/* Starts a request; 1 when the event loop now waits for its reply. */
static int notice_start(qmgr_message *m, const char *service, const char *request)
{
    bounce_message bm;
    struct timeval timeout = {.tv_sec = var_daemon_timeout };

    describe(&bm, m);
    m->notify_stream = bounce_clnt_start(service, request, &bm, var_qmgr_ipc_timeout);
    if (m->notify_stream == NULL) {
        if (m->step - 1 != STEP_EXPIRE_OR_WARN)
            m->notice_failed = 1;
        return 0;
    }
    m->notify_event = event_new(server_event_base(), m->notify_stream->fd, EV_READ,
                                notice_done, m);
    event_add(m->notify_event, &timeout);
    return 1;
}

static void start_next_waiting(void)
{
    qmgr_message *m;

    while (notifying < QMGR_NOTIFY_MAX && (m = waiting_head) != NULL) {
        waiting_head = m->next_waiting;
        if (waiting_head == NULL)
            waiting_tail = NULL;
        notifying++;
        pass_continue(m);
    }
}

static void pass_finish(qmgr_message *m)
{
    time_t  now = time(NULL);

    if (m->remaining || m->notice_failed)
        defer_message(m, now);
    else
        remove_message(m);
    message_free(m);
    notifying--;
    start_next_waiting();
}

static void pass_continue(qmgr_message *m)
{
    time_t  now = time(NULL);

    for (;;) {
        switch (m->step++) {
        case STEP_BOUNCE:
            if (log_exists(QUEUE_BOUNCE, m->id)
                && notice_start(m, var_bounce_service_name, BOUNCE_FLUSH))
                return;
            break;
        case STEP_EXPIRE_OR_WARN:
            if (m->remaining && expired(m, now)) {
                m->expiring = 1;
                log_expired(m);
                if (notice_start(m, var_defer_service_name, BOUNCE_FLUSH_DEFER))
                    return;
            } else if (m->remaining && m->env.warn_time > 0 && now >= m->env.warn_time) {
                if (notice_start(m, var_defer_service_name, BOUNCE_WARN))
                    return;
            }
            break;
        case STEP_TRACE:
            if (log_exists(QUEUE_TRACE, m->id)
                && notice_start(m, var_trace_service_name, BOUNCE_TRACE))
                return;
            break;
        default:
            pass_finish(m);
            return;
        }
    }
}

static void pass_end(qmgr_message *m)
{
    m->step = STEP_BOUNCE;
    m->remaining = m->deferred;
    m->notice_failed = 0;
    if (notifying < QMGR_NOTIFY_MAX) {
        notifying++;
        pass_continue(m);
        return;
    }
    if (waiting_tail)
        waiting_tail->next_waiting = m;
    else
        waiting_head = m;
    waiting_tail = m;
}

void qmgr_message_entry_done(qmgr_message *m)
{
    if (--m->refcount == 0 && !m->loading)
        pass_end(m);
}

/* Start-up ------------------------------------------------------------- */

void qmgr_message_recover(void)
{
    argv_t *ids = argv_new(16);
    strbuf *why = strbuf_new(64);

    if (queue_scan(QUEUE_ACTIVE, ids) < 0)
        msg_warn("scan %s: %m", QUEUE_ACTIVE);
    for (size_t i = 0; i < ids->count; i++)
        if (queue_file_move(QUEUE_ACTIVE, ids->items[i], QUEUE_INCOMING, why) < 0)
            msg_warn("%s: %s", ids->items[i], why->data);
    argv_free(ids);
    strbuf_free(why);
}

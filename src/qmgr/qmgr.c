/*
 * qmgr - the queue manager (qmgr(8)); docs/qmgr.md.
 *
 * A resident trigger server (master.cf: "qmgr unix n - y 300 1 qmgr"). It
 * moves complete files from incoming/ and, when their retry time (mtime)
 * has come, from deferred/ into active/, at most qmgr_message_active_limit
 * messages and about qmgr_message_recipient_limit recipients in memory at
 * once (one message is always allowed, whatever its size), and schedules
 * their delivery (qmgr_sched.c).
 *
 * Triggers (public/qmgr, docs/protocols.md): "I" scan incoming/, "D" scan
 * deferred/ for files that are due, "A" scan all of deferred/ ignoring retry
 * times (postqueue -f: such messages also skip defer_transports), "F"
 * forget dead destinations, "W" wake up. Every trigger also scans incoming/,
 * as master's periodic wake-up is how mail that arrived without a trigger is
 * found. deferred/ is scanned every queue_run_delay, and both queues at
 * start-up, after what a previous qmgr left in active/ has been moved back
 * to incoming/.
 *
 * Feeding is spread over event loop turns (QMGR_FEED_BATCH messages at a
 * time), alternating between incoming/ and deferred/ so neither starves,
 * and runs at the skeleton's background priority: only when no delivery
 * agent or trigger is waiting, so a flood of new mail cannot hold up the
 * deliveries that empty the queue.
 * A directory is listed once; triggers that arrive while a listing is
 * being worked through ask for one more listing after it.
 */
#include <event2/event.h>
#include <string.h>
#include <sys/stat.h>

#include "argv.h"
#include "mail_params.h"
#include "msg.h"
#include "qmgr.h"
#include "queue_scan.h"
#include "server.h"

#define QMGR_FEED_BATCH  5

typedef struct qmgr_scan {
    const char *queue_name;
    argv_t *ids;                        /* the current listing */
    size_t  next;                       /* next name to try */
    int     all;                        /* this listing ignores retry times */
    int     again;                      /* list once more when done */
    int     again_all;
} qmgr_scan;

size_t  qmgr_active_count;
size_t  qmgr_rcpt_count;

static qmgr_scan incoming_scan = {.queue_name = QUEUE_INCOMING };
static qmgr_scan deferred_scan = {.queue_name = QUEUE_DEFERRED };
static struct event *feed_event;
static struct event *deferred_timer;

void qmgr_feed_soon(void)
{
    event_active(feed_event, 0, 0);
}

void qmgr_message_released(void)
{
    qmgr_feed_soon();
}

static int scan_busy(const qmgr_scan *scan)
{
    return scan->ids && scan->next < scan->ids->count;
}

static void scan_request(qmgr_scan *scan, int all)
{
    if (scan_busy(scan)) {
        scan->again = 1;
        scan->again_all |= all;
        return;
    }
    argv_free(scan->ids);
    scan->ids = argv_new(64);
    scan->next = 0;
    scan->all = all;
    if (queue_scan(scan->queue_name, scan->ids) < 0)
        msg_warn("scan %s: %m", scan->queue_name);
    qmgr_feed_soon();
}

/* The next name of a listing, starting the requested re-listing when done. */
static const char *scan_next(qmgr_scan *scan)
{
    if (!scan_busy(scan) && scan->again) {
        int     all = scan->again_all;

        scan->again = scan->again_all = 0;
        scan_request(scan, all);
    }
    return scan_busy(scan) ? scan->ids->items[scan->next++] : NULL;
}

static int room_for_more(void)
{
    if (qmgr_active_count >= (size_t) var_qmgr_message_active_limit)
        return 0;
    return qmgr_active_count == 0 || qmgr_rcpt_count < (size_t) var_qmgr_message_recipient_limit;
}

/* Whether a listed file should enter the active queue now. */
static int file_is_due(const qmgr_scan *scan, const char *id, time_t now)
{
    strbuf *path = strbuf_new(64);
    struct stat st;
    int     due;

    queue_path(path, scan->queue_name, id);
    due = lstat(path->data, &st) == 0 && S_ISREG(st.st_mode);
    if (due && scan == &incoming_scan)
        due = queue_file_is_complete(&st);
    else if (due && !scan->all)
        due = st.st_mtime <= now;
    strbuf_free(path);
    return due;
}

static int feed_from(qmgr_scan *scan, time_t now)
{
    const char *id;

    while ((id = scan_next(scan)) != NULL) {
        if (file_is_due(scan, id, now)) {
            (void) qmgr_message_load(scan->queue_name, id, scan->all);
            return 1;
        }
    }
    return 0;
}

static void feed(evutil_socket_t fd, short what, void *context)
{
    time_t  now = time(NULL);
    int     turn = 0;
    int     fed = 0;

    (void) fd;
    (void) what;
    (void) context;
    while (room_for_more() && fed < QMGR_FEED_BATCH) {
        qmgr_scan *first = turn++ % 2 ? &deferred_scan : &incoming_scan;
        qmgr_scan *second = first == &incoming_scan ? &deferred_scan : &incoming_scan;

        if (!feed_from(first, now) && !feed_from(second, now))
            return;
        fed++;
    }
    if (room_for_more())
        qmgr_feed_soon();
    else
        qmgr_sched_clog_check(qmgr_active_count, (size_t) var_qmgr_message_active_limit);
}

static void deferred_run(evutil_socket_t fd, short what, void *context)
{
    struct timeval delay = {.tv_sec = var_queue_run_delay };

    (void) fd;
    (void) what;
    (void) context;
    qmgr_sched_sweep();
    scan_request(&deferred_scan, 0);
    evtimer_add(deferred_timer, &delay);
}

static void qmgr_trigger(const char *data, size_t len, const server_ctx *ctx)
{
    (void) ctx;
    for (size_t i = 0; i < len; i++) {
        switch (data[i]) {
        case 'I':
        case 'W':
            break;
        case 'D':
            scan_request(&deferred_scan, 0);
            break;
        case 'A':
            scan_request(&deferred_scan, 1);
            break;
        case 'F':
            qmgr_sched_forget_dead();
            break;
        default:
            msg_warn("unexpected trigger request 0x%02x ignored", (unsigned char) data[i]);
            break;
        }
    }
    scan_request(&incoming_scan, 0);
}

static void qmgr_post_init(const server_ctx *ctx)
{
    (void) ctx;
    qmgr_message_recover();
    qmgr_sched_init();
    feed_event = event_new(server_event_base(), -1, 0, feed, NULL);
    event_priority_set(feed_event, SERVER_PRIORITY_BACKGROUND);
    deferred_timer = evtimer_new(server_event_base(), deferred_run, NULL);
    scan_request(&incoming_scan, 0);
    deferred_run(-1, 0, NULL);
}

int main(int argc, char **argv)
{
    static const server_spec spec = {
        .post_init = qmgr_post_init,
        .trigger = qmgr_trigger,
        .flags = SERVER_FLAG_RESIDENT,
    };

    trigger_server_main(argc, argv, &spec);
}

/*
 * qmgr.h - the queue manager's internal interfaces (docs/qmgr.md).
 *
 * Modules:
 *   qmgr.c          main(), triggers, timers, start-up recovery, feeding
 *                   scanned queue files into the active queue
 *   qmgr_message.c  one message in the active queue: loading (move to
 *                   active/, read, resolve, group recipients), and the end
 *                   of a delivery pass (notifications through the bounce
 *                   service, without blocking; removal, deferral, expiry,
 *                   delay warnings)
 *   qmgr_sched.c    transports, destinations and their entries; the
 *                   scheduler and the non-blocking conversations with
 *                   delivery agents; dead destinations
 *   qmgr_outcome.c  outcomes qmgr decides itself (dead destination,
 *                   unresolvable address), logged and recorded through
 *                   delivery.c exactly as an agent would
 *   qmgr_policy.c   pure decisions (backoff, lifetime, destination names),
 *                   unit-tested (tests/unit/test_qmgr_policy.c)
 *
 * Memory: a message belongs to its entries (refcount) and, once they are
 * done, to the end of its pass, which frees it. Transports own their
 * destinations, destinations own the entries waiting in them; an entry in
 * delivery is owned by its agent conversation. Nothing here is thread-safe
 * (qmgr is one process with one event loop).
 */
#ifndef POSTERN_QMGR_H
#define POSTERN_QMGR_H

#include <stddef.h>
#include <sys/time.h>
#include <time.h>

#include "htable.h"
#include "queue_envelope.h"
#include "stream.h"
#include "strbuf.h"

struct event;

typedef struct qmgr_message qmgr_message;
typedef struct qmgr_transport qmgr_transport;
typedef struct qmgr_queue qmgr_queue;
typedef struct qmgr_entry qmgr_entry;

/* One recipient of an entry: its index in the envelope and delivery address. */
typedef struct qmgr_rcpt {
    size_t  index;
    char   *address;                    /* as resolved */
} qmgr_rcpt;

struct qmgr_message {
    char    id[QUEUE_ID_MAX + 1];
    queue_envelope env;
    struct timeval active_time;         /* when it entered active/ */
    int     refcount;                   /* entries not finished */
    int     loading;                    /* still being split into entries */
    int     deferred;                   /* some recipient stays for later */
    size_t  pending;                    /* recipients to deliver this pass */
    int     step;                       /* end of the pass: next step */
    int     remaining;                  /* end of the pass: recipients left */
    int     notice_failed;              /* a notification must be retried */
    int     expiring;                   /* the request in progress returns the message */
    struct stream *notify_stream;       /* the bounce conversation in progress */
    struct event *notify_event;
    qmgr_message *next_waiting;         /* waiting for a notification slot */
};

struct qmgr_entry {
    qmgr_message *message;
    qmgr_queue *queue;
    qmgr_rcpt *rcpt;
    size_t  count;
    size_t  cap;
    qmgr_entry *next;                   /* in the destination's to-do list */
};

struct qmgr_queue {                     /* one destination of one transport */
    char   *name;                       /* nexthop, or nexthop!recipient */
    char   *nexthop;
    qmgr_transport *transport;
    qmgr_entry *todo_head;
    qmgr_entry *todo_tail;
    size_t  todo_count;
    int     busy;                       /* deliveries in progress */
    int     window;                     /* concurrency allowed now */
    time_t  dead_until;                 /* 0: alive */
    strbuf *dead_dsn;
    strbuf *dead_reason;
    struct timeval next_dispatch;       /* rate delay */
    qmgr_entry *filling;                /* entry being filled by the message loading now */
    qmgr_queue *prev;                   /* in the transport's list */
    qmgr_queue *next;
};

struct qmgr_transport {
    char   *name;
    int     concurrency_limit;          /* 0: no limit */
    int     recipient_limit;            /* 0: no limit */
    int     initial_concurrency;
    int     rate_delay;                 /* seconds */
    htable *queues;                     /* name -> qmgr_queue * */
    qmgr_queue *head;                   /* every destination, in creation order */
    qmgr_queue *cursor;                 /* where the round-robin search starts */
    int     connecting;                 /* conversations waiting for "ready" */
    time_t  dead_until;
    strbuf *dead_dsn;
    strbuf *dead_reason;
    qmgr_transport *next;
};

/* qmgr.c */
void    qmgr_feed_soon(void);
void    qmgr_message_released(void);
extern size_t qmgr_active_count;
extern size_t qmgr_rcpt_count;

/* qmgr_message.c */
int     qmgr_message_load(const char *from_queue, const char *id, int flush);
void    qmgr_message_entry_done(qmgr_message *message);
void    qmgr_message_recover(void);

/* qmgr_sched.c */
void    qmgr_sched_init(void);
qmgr_queue *qmgr_queue_for(const char *transport, const char *nexthop, const char *recipient);
void    qmgr_queue_add_recipient(qmgr_queue *queue, qmgr_message *message, size_t index,
                                 const char *address);
void    qmgr_sched_message_loaded(qmgr_message *message);
void    qmgr_schedule_soon(void);
void    qmgr_sched_forget_dead(void);
void    qmgr_sched_sweep(void);
void    qmgr_sched_clog_check(size_t active, size_t limit);

/* qmgr_outcome.c */
typedef enum qmgr_outcome_kind { QMGR_DEFER, QMGR_BOUNCE } qmgr_outcome_kind;

void    qmgr_outcome(qmgr_message *message, const qmgr_rcpt *rcpt, size_t count,
                     qmgr_outcome_kind kind, const char *dsn, const char *reason);

/* qmgr_policy.c */
int     qmgr_backoff(time_t arrival, time_t now, int min_backoff, int max_backoff);
int     qmgr_lifetime(const char *sender, const char *double_bounce, int max_lifetime,
                      int bounce_lifetime);
void    qmgr_queue_name(strbuf *out, const char *nexthop, const char *recipient,
                        int recipient_limit);
int     qmgr_transport_setting(const char *transport, const char *suffix, int fallback);
int     qmgr_transport_time_setting(const char *transport, const char *suffix, int fallback);

#endif

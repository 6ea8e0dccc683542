/*
 * showq - list the mail queue (showq(8)); docs/showq.md.
 *
 * A single server on public/showq (reachable by the set-gid postqueue).
 * For each connection it walks maildrop, incoming, active, deferred and
 * hold, in that order, and sends one frame per message followed by one frame
 * per recipient still to be delivered, then an end frame
 * (docs/protocols.md, "showq"):
 *
 *   more=1 queue_name queue_id arrival_time message_size sender rcpt_count
 *   address reason(opt)              (rcpt_count times)
 *   more=0
 *
 * Queue files are read with queue_envelope_read; a file that does not
 * parse (being written, damaged) is skipped. maildrop files, which postdrop
 * writes without the sizes record, are summarised from their T, S and R
 * records (size: the file size). The reason of a recipient is the latest
 * one in defer/ID; recipients with reasons come in the order of their
 * first reason in that log, the others after them in queue file order.
 * The client sends nothing; a client that goes away ends the listing.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "argv.h"
#include "attr.h"
#include "dsn_log.h"
#include "htable.h"
#include "mem.h"
#include "msg.h"
#include "queue_envelope.h"
#include "queue_scan.h"
#include "record.h"
#include "server.h"

#define SHOWQ_MAILDROP_RECORD_MAX  (64 * 1024)
#define SHOWQ_RCPT_MAX             1000000

typedef struct showq_rcpt {
    const char *address;
    const char *reason;                 /* NULL when none */
    size_t  order;                      /* sort key */
} showq_rcpt;

typedef struct showq_message {
    long    arrival;
    long    size;
    char   *sender;
    argv_t *recipients;
} showq_message;

static const char *const showq_queues[] = {
    QUEUE_MAILDROP, QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD, NULL,
};

static int compare_rcpt(const void *a, const void *b)
{
    const showq_rcpt *x = a;
    const showq_rcpt *y = b;

    return x->order < y->order ? -1 : x->order > y->order;
}

/* Sends the recipients, each with its latest deferral reason. */
static void send_recipients(stream *client, const char *id, const argv_t *recipients)
{
    dsn_outcome_list *log = dsn_log_read(QUEUE_DEFER, id);
    htable *latest = htable_new(log->count);
    htable *first = htable_new(log->count);
    showq_rcpt *rcpt = xcalloc(recipients->count ? recipients->count : 1, sizeof(*rcpt));

    for (size_t i = 0; i < log->count; i++) {
        htable_put(latest, log->items[i].recipient, log->items[i].reason, NULL);
        if (htable_find(first, log->items[i].reason) == NULL)
            htable_put(first, log->items[i].reason, (void *) (i + 1), NULL);
    }
    for (size_t i = 0; i < recipients->count; i++) {
        rcpt[i].address = recipients->items[i];
        rcpt[i].reason = htable_get(latest, rcpt[i].address);
        rcpt[i].order = rcpt[i].reason
            ? (size_t) htable_get(first, rcpt[i].reason) : log->count + 1 + i;
    }
    qsort(rcpt, recipients->count, sizeof(*rcpt), compare_rcpt);
    for (size_t i = 0; i < recipients->count; i++) {
        attr_put_str(client, "address", rcpt[i].address);
        if (rcpt[i].reason)
            attr_put_str(client, "reason", rcpt[i].reason);
        attr_put_end(client);
    }
    free(rcpt);
    htable_free(latest, NULL);
    htable_free(first, NULL);
    dsn_outcome_list_free(log);
}

static void send_message(stream *client, const char *queue, const char *id,
                         const showq_message *m)
{
    attr_put_int(client, "more", 1);
    attr_put_str(client, "queue_name", queue);
    attr_put_str(client, "queue_id", id);
    attr_put_int(client, "arrival_time", m->arrival);
    attr_put_int(client, "message_size", m->size);
    attr_put_str(client, "sender", m->sender);
    attr_put_int(client, "rcpt_count", (long) m->recipients->count);
    attr_put_end(client);
    send_recipients(client, id, m->recipients);
}

/* A maildrop file: T, S and R records before the content. */
static int read_maildrop(queue_file *qf, showq_message *m)
{
    strbuf *data = strbuf_new(128);
    struct stat st;
    int     type;

    m->size = fstat(qf->stream->fd, &st) == 0 ? (long) st.st_size : 0;
    while ((type = rec_get(qf->stream, data, SHOWQ_MAILDROP_RECORD_MAX)) >= 0
           && type != REC_TYPE_MESSAGE && strbuf_is_clean_text(data)) {
        if (type == REC_TYPE_TIME)
            m->arrival = strtol(data->data, NULL, 10);
        else if (type == REC_TYPE_SENDER && m->sender == NULL)
            m->sender = xstrdup(data->data);
        else if (type == REC_TYPE_RCPT && m->recipients->count < SHOWQ_RCPT_MAX)
            argv_add(m->recipients, data->data);
    }
    strbuf_free(data);
    return m->sender ? 0 : -1;
}

static int read_queue_file(queue_file *qf, showq_message *m)
{
    queue_envelope env;
    strbuf *why = strbuf_new(64);
    int     rc = queue_envelope_read(qf->stream, &env, 0, why);

    if (rc == 0) {
        m->arrival = env.arrival.tv_sec;
        m->size = env.sizes.message_size;
        m->sender = xstrdup(env.sender);
        for (size_t i = 0; i < env.recipient_count; i++)
            if (!env.recipients[i].done)
                argv_add(m->recipients, env.recipients[i].address);
        queue_envelope_free(&env);
    }
    strbuf_free(why);
    return rc;
}

static void show_file(stream *client, const char *queue, const char *id)
{
    strbuf *why = strbuf_new(64);
    queue_file *qf = queue_file_open(queue, id, O_RDONLY, why);
    showq_message m = {.recipients = argv_new(4) };
    int     rc = -1;

    if (qf != NULL) {
        rc = strcmp(queue, QUEUE_MAILDROP) == 0 ? read_maildrop(qf, &m)
            : read_queue_file(qf, &m);
        queue_file_close(qf);
    }
    if (rc == 0)
        send_message(client, queue, id, &m);
    free(m.sender);
    argv_free(m.recipients);
    strbuf_free(why);
}

static void showq_service(stream *client, const server_ctx *ctx)
{
    (void) ctx;
    for (int q = 0; showq_queues[q] && stream_status(client) == 0; q++) {
        argv_t *ids = argv_new(32);

        if (queue_scan(showq_queues[q], ids) < 0)
            msg_warn("scan %s: %m", showq_queues[q]);
        for (size_t i = 0; i < ids->count && stream_status(client) == 0; i++)
            show_file(client, showq_queues[q], ids->items[i]);
        argv_free(ids);
    }
    attr_put_int(client, "more", 0);
    (void) attr_end(client);
}

int main(int argc, char **argv)
{
    static const server_spec spec = {.service = showq_service };

    single_server_main(argc, argv, &spec);
}

/*
 * delivery - the frame around every delivery. See delivery.h.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery.h"
#include "dsn.h"
#include "dsn_log.h"
#include "mail_sanitize.h"
#include "mem.h"
#include "msg.h"
#include "record.h"

delivery *delivery_start(stream *client)
{
    deliver_request *req = deliver_request_read(client);
    strbuf *why;
    delivery *d;

    if (req == NULL)
        return NULL;
    why = strbuf_new(64);
    d = xcalloc(1, sizeof(*d));
    d->req = req;
    if ((d->qf = queue_file_open(req->queue_name, req->queue_id, O_RDWR, why)) == NULL) {
        msg_warn("%s: %s", req->queue_id, why->data);
        deliver_request_reply(client, DELIVER_STAT_DEFER, 0, "4.3.0", "queue file not found");
        deliver_request_free(req);
        free(d);
        d = NULL;
    }
    strbuf_free(why);
    return d;
}

void delivery_connected(delivery *d)
{
    gettimeofday(&d->conn_done, NULL);
}

static double seconds_between(const struct timeval *from, const struct timeval *to)
{
    double  diff = (double) (to->tv_sec - from->tv_sec) + (to->tv_usec - from->tv_usec) / 1e6;

    return diff > 0 ? diff : 0;
}

void delivery_format_delay(strbuf *out, double seconds)
{
    char    text[32];
    int     decimals = seconds >= 10 ? 0 : seconds >= 1 ? 1 : 2;
    size_t  len;

    snprintf(text, sizeof(text), "%.*f", decimals, seconds);
    len = strlen(text);
    if (strchr(text, '.')) {
        while (len > 0 && text[len - 1] == '0')
            text[--len] = 0;
        if (len > 0 && text[len - 1] == '.')
            text[--len] = 0;
    }
    strbuf_append_str(out, text);
}

/* "delay=D, delays=a/b/c/d" */
static void append_delays(strbuf *line, const delivery *d)
{
    const deliver_request *req = d->req;
    struct timeval now;
    const struct timeval *conn = d->conn_done.tv_sec ? &d->conn_done : &req->agent_time;
    double  parts[4];

    gettimeofday(&now, NULL);
    parts[0] = seconds_between(&req->arrival_time, &req->active_time);
    parts[1] = seconds_between(&req->active_time, &req->agent_time);
    parts[2] = seconds_between(&req->agent_time, conn);
    parts[3] = seconds_between(conn, &now);
    strbuf_append_str(line, "delay=");
    delivery_format_delay(line, seconds_between(&req->arrival_time, &now));
    strbuf_append_str(line, ", delays=");
    for (int i = 0; i < 4; i++) {
        if (i)
            strbuf_append_char(line, '/');
        delivery_format_delay(line, parts[i]);
    }
}

static void log_line(const delivery *d, const char *to, const char *orig_to,
                     const char *relay, const char *dsn, const char *status,
                     const char *reason)
{
    strbuf *line = strbuf_new(256);

    strbuf_printf(line, "%s: ", d->req->log_ident[0] ? d->req->log_ident : d->req->queue_id);
    log_address(line, "to", to, strlen(to));
    if (orig_to[0] && strcmp(orig_to, to) != 0) {
        strbuf_append_str(line, ", ");
        log_address(line, "orig_to", orig_to, strlen(orig_to));
    }
    strbuf_append_str(line, ", relay=");
    sanitize_printable(line, relay, strlen(relay));
    strbuf_append_str(line, ", ");
    append_delays(line, d);
    strbuf_append_printf(line, ", dsn=%s, status=%s (", dsn, status);
    sanitize_printable(line, reason, strlen(reason));
    strbuf_append_char(line, ')');
    msg_info("%s", line->data);
    strbuf_free(line);
}

static void log_outcome(const delivery *d, size_t i, const char *relay, const char *dsn,
                        const char *status, const char *reason)
{
    const deliver_recipient *rcpt = &d->req->rcpt[i];

    log_line(d, rcpt->address, rcpt->orig_rcpt, relay, dsn, status, reason);
}

static int record_for(const delivery *d, size_t i, const char *address, const char *log_queue,
                      const char *dsn, const char *action, const char *reason,
                      const delivery_detail *detail)
{
    const deliver_recipient *rcpt = &d->req->rcpt[i];
    strbuf *why = strbuf_new(64);
    dsn_outcome outcome = {
        .recipient = (char *) address,.orig_rcpt = rcpt->orig_rcpt,
        .dsn_orcpt = rcpt->dsn_orcpt,.dsn_notify = rcpt->dsn_notify,
        .offset = rcpt->offset,.status = (char *) dsn,.action = (char *) action,
        .reason = (char *) reason,
        .diag_type = (char *) (detail && detail->diag_type ? detail->diag_type : ""),
        .diag_text = (char *) (detail && detail->diag_text ? detail->diag_text : ""),
        .mta_type = (char *) (detail && detail->mta_name ? "dns" : ""),
        .mta_name = (char *) (detail && detail->mta_name ? detail->mta_name : ""),
    };
    int     rc = dsn_log_append(log_queue, d->req->queue_id, &outcome, why);

    if (rc < 0)
        msg_warn("%s: cannot record delivery status: %s", d->req->queue_id, why->data);
    strbuf_free(why);
    return rc;
}

static int record_outcome(const delivery *d, size_t i, const char *log_queue,
                          const char *dsn, const char *action, const char *reason,
                          const delivery_detail *detail)
{
    return record_for(d, i, d->req->rcpt[i].address, log_queue, dsn, action, reason, detail);
}

static int mark_done(delivery *d, size_t i)
{
    if (rec_mark_done(d->qf->stream->fd, d->req->rcpt[i].offset) < 0) {
        msg_warn("%s: cannot update queue file %s: %m", d->req->queue_id, d->qf->path->data);
        return -1;
    }
    return 0;
}

void delivery_deferred(delivery *d, size_t i, const char *relay, const char *dsn,
                       const char *reason, const delivery_detail *detail)
{
    d->deferred = 1;
    log_outcome(d, i, relay, dsn, "deferred", reason);
    record_outcome(d, i, QUEUE_DEFER, dsn, "delayed", reason, detail);
}

void delivery_sent(delivery *d, size_t i, const char *relay, const char *dsn,
                   const char *reason, const char *action)
{
    const deliver_recipient *rcpt = &d->req->rcpt[i];

    if (((rcpt->dsn_notify & DSN_NOTIFY_SUCCESS) || (d->req->flags & DELIVER_FLAG_RECORD))
        && record_outcome(d, i, QUEUE_TRACE, dsn, action, reason, NULL) < 0) {
        delivery_deferred(d, i, relay, "4.3.0", "cannot record delivery notice", NULL);
        return;
    }
    if (mark_done(d, i) < 0) {
        delivery_deferred(d, i, relay, "4.3.0", "cannot update queue file", NULL);
        return;
    }
    log_outcome(d, i, relay, dsn, "sent", reason);
}

void delivery_bounced(delivery *d, size_t i, const char *relay, const char *dsn,
                      const char *reason, const delivery_detail *detail)
{
    if (record_outcome(d, i, QUEUE_BOUNCE, dsn, "failed", reason, detail) < 0
        || mark_done(d, i) < 0) {
        delivery_deferred(d, i, relay, "4.3.0", "cannot record bounce", detail);
        return;
    }
    log_outcome(d, i, relay, dsn, "bounced", reason);
}

/* The original address a member was expanded from, for orig_to=. */
static const char *member_origin(const delivery *d, size_t i)
{
    const deliver_recipient *rcpt = &d->req->rcpt[i];

    return rcpt->orig_rcpt[0] ? rcpt->orig_rcpt : rcpt->address;
}

int delivery_member_sent(delivery *d, size_t i, const char *address, const char *relay,
                         const char *dsn, const char *reason, const char *action)
{
    const deliver_recipient *rcpt = &d->req->rcpt[i];

    if (((rcpt->dsn_notify & DSN_NOTIFY_SUCCESS) || (d->req->flags & DELIVER_FLAG_RECORD))
        && record_for(d, i, address, QUEUE_TRACE, dsn, action, reason, NULL) < 0)
        return -1;
    log_line(d, address, member_origin(d, i), relay, dsn, "sent", reason);
    return 0;
}

int delivery_member_bounced(delivery *d, size_t i, const char *address, const char *relay,
                            const char *dsn, const char *reason)
{
    if (record_for(d, i, address, QUEUE_BOUNCE, dsn, "failed", reason, NULL) < 0)
        return -1;
    log_line(d, address, member_origin(d, i), relay, dsn, "bounced", reason);
    return 0;
}

void delivery_member_deferred(delivery *d, size_t i, const char *address, const char *relay,
                              const char *dsn, const char *reason)
{
    d->deferred = 1;
    log_line(d, address, member_origin(d, i), relay, dsn, "deferred", reason);
    record_for(d, i, d->req->rcpt[i].address, QUEUE_DEFER, dsn, "delayed", reason, NULL);
}

int delivery_done(delivery *d, size_t i)
{
    if (mark_done(d, i) < 0) {
        delivery_deferred(d, i, "none", "4.3.0", "cannot update queue file", NULL);
        return -1;
    }
    return 0;
}

int delivery_finish(delivery *d, stream *client, int site_failure, const char *dsn,
                    const char *reason)
{
    int     status = d->deferred ? DELIVER_STAT_DEFER : DELIVER_STAT_OK;
    int     rc;

    rc = deliver_request_reply(client, status, site_failure, dsn, reason);
    queue_file_close(d->qf);
    deliver_request_free(d->req);
    free(d);
    return rc;
}

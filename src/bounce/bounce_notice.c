/*
 * bounce_notice - compose a delivery status notification. See bounce_notice.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "bounce_notice.h"
#include "dsn.h"
#include "mail_addr.h"
#include "mail_date.h"
#include "mail_params.h"
#include "mail_sanitize.h"
#include "record.h"
#include "xtext.h"

#define BOUNCE_SIGNATURE  "                   The mail system"

typedef struct writer {
    bounce_line_fn put;
    void   *context;
    strbuf *line;
} writer;

static void put(writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(writer *w, const char *fmt, ...)
{
    va_list ap;

    strbuf_reset(w->line);
    va_start(ap, fmt);
    strbuf_append_vprintf(w->line, fmt, ap);
    va_end(ap);
    w->put(w->context, w->line->data, w->line->len);
}

/* Printable ASCII copy of untrusted text, in a caller-owned buffer. */
static const char *clean(strbuf *out, const char *text)
{
    strbuf_reset(out);
    sanitize_printable(out, text ? text : "", text ? strlen(text) : 0);
    return out->data;
}

/* An envelope address as it appears in a header or report field. */
static const char *external(strbuf *out, const char *address)
{
    strbuf *ext = strbuf_new(64);

    mail_addr_externalize(ext, address, strlen(address));
    clean(out, ext->data);
    strbuf_free(ext);
    return out->data;
}

const char *bounce_notice_subject(bounce_kind kind, bounce_audience audience)
{
    int     postmaster = audience != BOUNCE_TO_SENDER;

    switch (kind) {
    case BOUNCE_KIND_DELAY:
        return postmaster ? "Postmaster Warning: Delayed Mail" : "Delayed Mail (still being retried)";
    case BOUNCE_KIND_SUCCESS:
        return "Successful Mail Delivery Report";
    default:
        return postmaster ? "Postmaster Copy: Undelivered Mail"
            : "Undelivered Mail Returned to Sender";
    }
}

static void make_boundary(strbuf *out, const bounce_notice *n)
{
    unsigned long long nonce = 0;

    if (getrandom(&nonce, sizeof(nonce), 0) != (ssize_t) sizeof(nonce))
        nonce = (unsigned long long) n->now * 2654435761ULL;
    strbuf_printf(out, "%s.%ld.%016llX/%s", n->queue_id, (long) n->now, nonce, var_myhostname);
}

static void put_header(writer *w, const bounce_notice *n, const char *boundary)
{
    strbuf *date = strbuf_new(48);
    strbuf *scratch = strbuf_new(64);

    mail_date_format(date, n->now);
    put(w, "Received: by %s (%s)", var_myhostname, var_mail_name);
    put(w, "\tid %s; %s", n->new_queue_id, date->data);
    put(w, "Date: %s", date->data);
    put(w, "From: Mail Delivery System <MAILER-DAEMON@%s>", var_myhostname);
    put(w, "Subject: %s", bounce_notice_subject(n->kind, n->audience));
    put(w, "To: %s", external(scratch, n->recipient));
    put(w, "Auto-Submitted: auto-replied");
    put(w, "MIME-Version: 1.0");
    put(w, "Content-Type: multipart/report; report-type=delivery-status;");
    put(w, "\tboundary=\"%s\"", boundary);
    put(w, "Content-Transfer-Encoding: %s", n->eight_bit ? "8bit" : "7bit");
    strbuf_reset(scratch);
    if (message_id_format(scratch, n->now, n->new_queue_id, var_myhostname) == 0)
        put(w, "Message-Id: %s", scratch->data);
    put(w, "%s", "");
    put(w, "This is a MIME-encapsulated message.");
    put(w, "%s", "");
    strbuf_free(date);
    strbuf_free(scratch);
}

static void put_explanation(writer *w, const bounce_notice *n)
{
    long    hours = (long) (n->now - n->arrival) / 3600;
    long    days = (long) (n->retry_until - n->arrival + 86399) / 86400;

    put(w, "This is the mail system at host %s.", var_myhostname);
    put(w, "%s", "");
    switch (n->kind) {
    case BOUNCE_KIND_DELAY:
        put(w, "######################################################################");
        put(w, "# THIS IS ONLY A WARNING. YOU DO NOT HAVE TO SEND YOUR MESSAGE AGAIN. #");
        put(w, "######################################################################");
        put(w, "%s", "");
        put(w, "Your message has not been delivered after %ld hour(s) of trying.", hours);
        put(w, "The mail system keeps trying until the message is %ld day(s) old.", days);
        put(w, "%s", "");
        put(w, "If you need help, write to postmaster and include this report.");
        break;
    case BOUNCE_KIND_SUCCESS:
        put(w, "Your message reached the destinations listed below. A message");
        put(w, "delivered to a mailbox brings no further reports; one that was");
        put(w, "passed on to another system may still be reported as failed there.");
        break;
    default:
        put(w, "Your message could not be delivered to one or more of its");
        put(w, "recipients. The reasons are listed below; the message, or its");
        put(w, "header, is attached.");
        put(w, "%s", "");
        put(w, "If you need help, write to postmaster and include this report.");
        put(w, "You may remove your own text from the attached message first.");
        break;
    }
    put(w, "%s", "");
    put(w, BOUNCE_SIGNATURE);
    put(w, "%s", "");
}

static void put_recipient_lines(writer *w, const bounce_notice *n)
{
    strbuf *address = strbuf_new(64);
    strbuf *orig = strbuf_new(64);
    strbuf *reason = strbuf_new(128);

    for (size_t i = 0; i < n->outcome_count; i++) {
        const dsn_outcome *o = n->outcomes[i];

        external(address, o->recipient);
        if (o->orig_rcpt[0] && strcmp(o->orig_rcpt, o->recipient) != 0)
            put(w, "<%s> (expanded from <%s>): %s", address->data,
                external(orig, o->orig_rcpt), clean(reason, o->reason));
        else
            put(w, "<%s>: %s", address->data, clean(reason, o->reason));
        put(w, "%s", "");
    }
    strbuf_free(address);
    strbuf_free(orig);
    strbuf_free(reason);
}

static void put_original_recipient(writer *w, const dsn_outcome *o, strbuf *scratch)
{
    strbuf *type = strbuf_new(16);
    strbuf *address = strbuf_new(64);

    if (o->dsn_orcpt[0]
        && orcpt_decode(o->dsn_orcpt, strlen(o->dsn_orcpt), ORCPT_UTF8, type, address) == 0)
        put(w, "Original-Recipient: %s;%s", type->data, clean(scratch, address->data));
    else if (o->orig_rcpt[0])
        put(w, "Original-Recipient: rfc822;%s", external(scratch, o->orig_rcpt));
    strbuf_free(type);
    strbuf_free(address);
}

static const char *report_action(const bounce_notice *n, const dsn_outcome *o)
{
    if (n->kind == BOUNCE_KIND_FAILURE)
        return "failed";
    if (n->kind == BOUNCE_KIND_DELAY)
        return "delayed";
    return o->action[0] ? o->action : "delivered";
}

static void put_report(writer *w, const bounce_notice *n)
{
    strbuf *scratch = strbuf_new(128);
    strbuf *type = strbuf_new(16);
    strbuf *date = strbuf_new(48);

    put(w, "Reporting-MTA: dns; %s", var_myhostname);
    if (n->dsn_envid[0])
        put(w, "Original-Envelope-Id: %s", clean(scratch, n->dsn_envid));
    put(w, "X-Postern-Queue-ID: %s", n->queue_id);
    put(w, "X-Postern-Sender: rfc822; %s", external(scratch, n->sender));
    mail_date_format(date, n->arrival);
    put(w, "Arrival-Date: %s", date->data);
    for (size_t i = 0; i < n->outcome_count; i++) {
        const dsn_outcome *o = n->outcomes[i];

        put(w, "%s", "");
        put(w, "Final-Recipient: rfc822; %s", external(scratch, o->recipient));
        put_original_recipient(w, o, scratch);
        put(w, "Action: %s", report_action(n, o));
        put(w, "Status: %s", o->status);
        if (o->mta_name[0])
            put(w, "Remote-MTA: dns; %s", clean(scratch, o->mta_name));
        if (o->diag_type[0])
            put(w, "Diagnostic-Code: %s; %s", clean(type, o->diag_type),
                clean(scratch, o->diag_text));
        else
            put(w, "Diagnostic-Code: X-%s; %s", var_mail_name, clean(scratch, o->reason));
        if (n->kind == BOUNCE_KIND_DELAY) {
            strbuf_reset(date);
            mail_date_format(date, n->retry_until);
            put(w, "Will-Retry-Until: %s", date->data);
        }
    }
    put(w, "%s", "");
    strbuf_free(scratch);
    strbuf_free(type);
    strbuf_free(date);
}

static int return_full_message(const bounce_notice *n)
{
    if (n->audience == BOUNCE_TO_POSTMASTER_DOUBLE)
        return 1;
    if (n->kind != BOUNCE_KIND_FAILURE || n->audience != BOUNCE_TO_SENDER
        || (n->dsn_ret & DSN_RET_HDRS))
        return 0;
    return n->envelope && n->envelope->sizes.message_size <= var_bounce_size_limit;
}

/* Copies the original's lines (all, or up to the end of the header). */
static int put_original_lines(writer *w, const bounce_notice *n, int full)
{
    strbuf *data = strbuf_new(256);
    strbuf *line = strbuf_new(256);
    int     type;
    int     rc = 0;

    if (queue_content_start(n->original, n->envelope) < 0) {
        strbuf_free(data);
        strbuf_free(line);
        return -1;
    }
    while ((type = queue_content_next(n->original, data)) == REC_TYPE_LINE
           || type == REC_TYPE_PARTIAL) {
        strbuf_append(line, data->data, data->len);
        if (type == REC_TYPE_PARTIAL && line->len < REC_DATA_MAX)
            continue;
        if (!full && line->len == 0)
            break;
        w->put(w->context, line->data, line->len);
        strbuf_reset(line);
    }
    if (type < 0)
        rc = -1;
    strbuf_free(data);
    strbuf_free(line);
    return rc;
}

static int put_original(writer *w, const bounce_notice *n, const char *boundary)
{
    int     full = return_full_message(n);
    const char *what = n->kind == BOUNCE_KIND_FAILURE ? "Undelivered"
        : n->kind == BOUNCE_KIND_DELAY ? "Delayed" : "Delivered";
    int     rc;

    put(w, "--%s", boundary);
    put(w, "Content-Description: %s Message%s", what, full ? "" : " Headers");
    put(w, "Content-Type: %s", full ? "message/rfc822" : "text/rfc822-headers");
    if (n->eight_bit)
        put(w, "Content-Transfer-Encoding: 8bit");
    put(w, "%s", "");
    rc = put_original_lines(w, n, full);
    if (rc < 0)
        put(w, "[the rest of the original message could not be read]");
    put(w, "%s", "");
    return rc;
}

int bounce_notice_compose(const bounce_notice *n, bounce_line_fn put_line, void *context)
{
    writer  w = {.put = put_line,.context = context,.line = strbuf_new(256) };
    strbuf *boundary = strbuf_new(96);
    int     rc = 0;

    make_boundary(boundary, n);
    put_header(&w, n, boundary->data);
    put(&w, "--%s", boundary->data);
    put(&w, "Content-Description: Notification");
    put(&w, "Content-Type: text/plain; charset=us-ascii");
    put(&w, "%s", "");
    put_explanation(&w, n);
    put_recipient_lines(&w, n);
    put(&w, "--%s", boundary->data);
    put(&w, "Content-Description: Delivery report");
    put(&w, "Content-Type: message/delivery-status");
    put(&w, "%s", "");
    put_report(&w, n);
    if (n->original && n->envelope)
        rc = put_original(&w, n, boundary->data);
    put(&w, "--%s--", boundary->data);
    strbuf_free(boundary);
    strbuf_free(w.line);
    return rc;
}

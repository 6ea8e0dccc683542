/*
 * smtp_trans - one mail transaction on an open session, for the
 * recipients of a request that are not finished yet (done[i] == 0).
 *
 * MAIL FROM (SIZE, BODY=8BITMIME, SMTPUTF8, RET, ENVID as the server
 * offers them), one RCPT TO per recipient (NOTIFY, ORCPT), DATA; with
 * PIPELINING all of them in one write, then the replies in order. Each
 * recipient gets its outcome from the reply that decided it: 2xx sent, 4xx
 * deferred, 5xx bounced, with "host X said: REPLY (in reply to COMMAND)".
 * LMTP reads one reply per accepted recipient after the message.
 *
 * Returns SMTP_TRANS_DONE when every recipient was reported (*reusable
 * tells whether the session is in a clean state for another
 * transaction), or SMTP_TRANS_BROKEN when the connection failed before
 * the recipients still pending were decided: the caller tries another
 * server, or defers them with `fail`.
 */
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "mail_addr.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "smtp.h"
#include "xtext.h"

typedef struct trans {
    smtp_session *session;
    delivery *d;
    int    *done;
    int    *sent;                       /* RCPT sent for this recipient */
    int    *accepted;
    strbuf *relay;
    smtp_failure *fail;
} trans;

static void relay_text(trans *t)
{
    strbuf_set(t->relay, t->session->namaddr);
    if (t->session->uses > 0)
        strbuf_append_printf(t->relay, ", conn_use=%d", t->session->uses + 1);
}

static void report(trans *t, size_t i, const char *what)
{
    smtp_session *session = t->session;
    smtp_reply *reply = session->reply;
    strbuf *reason = strbuf_new(128);
    delivery_detail detail = {.mta_name = session->name,.diag_type = "smtp",
        .diag_text = reply->text->data };

    if (reply->code / 100 == 2) {
        deliver_recipient *rcpt = &t->d->req->rcpt[i];

        if ((session->features & SMTP_FEATURE_DSN) && !smtp_cfg.lmtp)
            rcpt->dsn_notify &= ~DSN_NOTIFY_SUCCESS;
        delivery_sent(t->d, i, t->relay->data, reply->dsn, reply->text->data,
                      smtp_cfg.lmtp ? "delivered" : "relayed");
    } else {
        strbuf_printf(reason, "host %s said: %s (in reply to %s)", session->host,
                      reply->text->data, what);
        if (reply->code / 100 == 5)
            delivery_bounced(t->d, i, t->relay->data, reply->dsn, reason->data, &detail);
        else
            delivery_deferred(t->d, i, t->relay->data, reply->dsn, reason->data, &detail);
    }
    t->done[i] = 1;
    strbuf_free(reason);
}

static void report_all(trans *t, const char *what, int accepted_only)
{
    for (size_t i = 0; i < t->d->req->rcpt_count; i++)
        if (!t->done[i] && (!accepted_only || t->accepted[i]))
            report(t, i, what);
}

/* Bounces every pending recipient with a reason of ours. */
static void bounce_all(trans *t, const char *dsn, const char *reason)
{
    for (size_t i = 0; i < t->d->req->rcpt_count; i++) {
        if (!t->done[i]) {
            delivery_bounced(t->d, i, t->relay->data, dsn, reason, NULL);
            t->done[i] = 1;
        }
    }
}

static void notify_text(strbuf *out, int notify)
{
    static const struct {
        int     bit;
        const char *name;
    } names[] = {{DSN_NOTIFY_SUCCESS, "SUCCESS"}, {DSN_NOTIFY_FAILURE, "FAILURE"},
    {DSN_NOTIFY_DELAY, "DELAY"}};

    if (notify & DSN_NOTIFY_NEVER) {
        strbuf_append_str(out, "NEVER");
        return;
    }
    for (size_t i = 0; i < 3; i++)
        if (notify & names[i].bit)
            strbuf_append_printf(out, "%s%s", strbuf_last(out) == '=' ? "" : ",",
                                 names[i].name);
}

static void mail_command(trans *t, strbuf *cmd)
{
    const deliver_request *req = t->d->req;
    int     features = t->session->features;
    strbuf *sender = strbuf_from(req->sender);

    smtp_generic_rewrite(sender);
    strbuf_set(cmd, "MAIL FROM:<");
    mail_addr_externalize(cmd, sender->data, sender->len);
    strbuf_append_char(cmd, '>');
    if (features & SMTP_FEATURE_SIZE)
        strbuf_append_printf(cmd, " SIZE=%ld", req->data_size);
    if ((features & SMTP_FEATURE_8BITMIME) && strcasecmp(req->encoding, "8bitmime") == 0)
        strbuf_append_str(cmd, " BODY=8BITMIME");
    if ((features & SMTP_FEATURE_SMTPUTF8) && req->smtputf8)
        strbuf_append_str(cmd, " SMTPUTF8");
    if (features & SMTP_FEATURE_DSN) {
        if (req->dsn_ret)
            strbuf_append_str(cmd, req->dsn_ret & DSN_RET_HDRS ? " RET=HDRS" : " RET=FULL");
        if (*req->dsn_envid) {
            strbuf_append_str(cmd, " ENVID=");
            xtext_encode(cmd, req->dsn_envid, strlen(req->dsn_envid));
        }
    }
    strbuf_free(sender);
}

static void rcpt_command(trans *t, size_t i, strbuf *cmd)
{
    const deliver_recipient *rcpt = &t->d->req->rcpt[i];
    strbuf *address = strbuf_from(rcpt->address);

    smtp_generic_rewrite(address);
    strbuf_set(cmd, "RCPT TO:<");
    mail_addr_externalize(cmd, address->data, address->len);
    strbuf_append_char(cmd, '>');
    if (t->session->features & SMTP_FEATURE_DSN) {
        const char *semi = strchr(rcpt->dsn_orcpt, ';');

        if (rcpt->dsn_notify) {
            strbuf_append_str(cmd, " NOTIFY=");
            notify_text(cmd, rcpt->dsn_notify);
        }
        if (semi) {
            char   *type = xstrndup(rcpt->dsn_orcpt, (size_t) (semi - rcpt->dsn_orcpt));

            strbuf_append_str(cmd, " ORCPT=");
            orcpt_encode(cmd, type, semi + 1, strlen(semi + 1));
            free(type);
        } else if (rcpt->orig_rcpt[0]) {
            strbuf_append_str(cmd, " ORCPT=");
            orcpt_encode(cmd, "rfc822", rcpt->orig_rcpt, strlen(rcpt->orig_rcpt));
        }
    }
    strbuf_free(address);
}

/* Reads one reply; SMTP_REPLY_OK or the failure recorded. */
static int read_reply(trans *t, int timeout, const char *when)
{
    int     rc = smtp_read_reply(t->session, timeout);

    if (rc != SMTP_REPLY_OK)
        smtp_lost(t->session, when, t->fail);
    return rc;
}

/* MAIL and RCPT replies; the number of accepted recipients, -1 when broken. */
static int read_envelope_replies(trans *t, int pipelined, int *mail_ok)
{
    size_t  count = t->d->req->rcpt_count;
    int     accepted = 0;

    if (read_reply(t, smtp_cfg.mail_timeout, "sending MAIL FROM") != SMTP_REPLY_OK)
        return -1;
    *mail_ok = t->session->reply->code / 100 == 2;
    if (!*mail_ok)
        report_all(t, "MAIL FROM command", 0);
    if (!*mail_ok && !pipelined)
        return 0;
    for (size_t i = 0; i < count; i++) {
        strbuf *cmd;

        if (pipelined ? !t->sent[i] : t->done[i])
            continue;
        if (!pipelined) {
            cmd = strbuf_new(128);
            rcpt_command(t, i, cmd);
            smtp_command(t->session, smtp_cfg.rcpt_timeout, "%s", cmd->data);
            strbuf_free(cmd);
        }
        if (read_reply(t, smtp_cfg.rcpt_timeout, "sending RCPT TO") != SMTP_REPLY_OK)
            return -1;
        if (t->done[i]) {
            /* MAIL FROM was refused: this reply changes nothing */
        } else if (t->session->reply->code / 100 == 2) {
            t->accepted[i] = 1;
            accepted++;
        } else {
            report(t, i, "RCPT TO command");
        }
    }
    return accepted;
}

/* Defers the accepted recipients still open with the recorded failure. */
static void defer_accepted(trans *t)
{
    delivery_detail detail = {.mta_name = t->session->name };

    for (size_t i = 0; i < t->d->req->rcpt_count; i++) {
        if (t->accepted[i] && !t->done[i]) {
            delivery_deferred(t->d, i, t->relay->data, t->fail->dsn, t->fail->reason->data,
                              &detail);
            t->done[i] = 1;
        }
    }
}

/*
 * After the message: one reply (SMTP) or one per accepted recipient
 * (LMTP). A connection lost here may have delivered the message: the
 * recipients are deferred, not tried at another server now; -1.
 */
static int read_final_replies(trans *t)
{
    for (size_t i = 0; i < t->d->req->rcpt_count; i++) {
        if (!t->accepted[i] || t->done[i])
            continue;
        if (read_reply(t, smtp_cfg.data_done_timeout, "sending end of data -- message may "
                       "be sent more than once") != SMTP_REPLY_OK) {
            defer_accepted(t);
            return -1;
        }
        if (smtp_cfg.lmtp) {
            report(t, i, "end of DATA command");
        } else {
            report_all(t, "end of DATA command", 1);
            break;
        }
    }
    return 0;
}

static int reset(trans *t)
{
    return smtp_command(t->session, smtp_cfg.rset_timeout, "RSET") == 0
        && smtp_read_reply(t->session, smtp_cfg.rset_timeout) == SMTP_REPLY_OK
        && t->session->reply->code / 100 == 2;
}

static int size_and_utf8_ok(trans *t)
{
    const deliver_request *req = t->d->req;
    smtp_session *session = t->session;
    strbuf *why = strbuf_new(128);
    int     ok = 0;

    if (req->smtputf8 && !(session->features & SMTP_FEATURE_SMTPUTF8) && !smtp_cfg.lmtp) {
        strbuf_printf(why, "SMTPUTF8 is required, but was not offered by host %s",
                      session->host);
        bounce_all(t, "5.6.7", why->data);
    } else if (session->size_limit > 0 && req->data_size > session->size_limit) {
        strbuf_printf(why, "message size %ld exceeds size limit %ld of server %s",
                      req->data_size, session->size_limit, session->host);
        bounce_all(t, "5.3.4", why->data);
    } else {
        ok = 1;
    }
    strbuf_free(why);
    return ok;
}

static int send_envelope(trans *t, int pipelined)
{
    strbuf *cmd = strbuf_new(128);

    mail_command(t, cmd);
    smtp_command(t->session, smtp_cfg.mail_timeout, "%s", cmd->data);
    if (pipelined) {
        for (size_t i = 0; i < t->d->req->rcpt_count; i++) {
            if (t->done[i])
                continue;
            rcpt_command(t, i, cmd);
            smtp_command(t->session, smtp_cfg.rcpt_timeout, "%s", cmd->data);
            t->sent[i] = 1;
        }
        smtp_command(t->session, smtp_cfg.data_init_timeout, "DATA");
    }
    strbuf_free(cmd);
    return stream_status(t->session->stream) ? -1 : 0;
}

/*
 * DATA reply and, after 354, the message; -1 when the connection broke
 * before the server could have taken the message (another server may be
 * tried).
 */
static int send_data(trans *t, int accepted, int *reusable)
{
    strbuf *why = strbuf_new(64);
    int     rc = 0;

    if (read_reply(t, smtp_cfg.data_init_timeout, "sending DATA") != SMTP_REPLY_OK) {
        rc = -1;
    } else if (t->session->reply->code != 354) {
        if (accepted)
            report_all(t, "DATA command", 1);
        *reusable = reset(t);
    } else if (accepted == 0) {
        smtp_command(t->session, smtp_cfg.data_done_timeout, ".");
        *reusable = smtp_read_reply(t->session, smtp_cfg.data_done_timeout) == SMTP_REPLY_OK;
    } else if (smtp_send_content(t->session, t->d, why) < 0) {
        if (why->len) {
            smtp_failure_set(t->fail, "4.3.0", "%s", why->data);
            defer_accepted(t);
        } else {
            smtp_lost(t->session, "sending message body", t->fail);
            rc = -1;
        }
    } else {
        smtp_command(t->session, smtp_cfg.data_done_timeout, ".");
        t->session->uses++;
        *reusable = read_final_replies(t) == 0;
    }
    strbuf_free(why);
    return rc;
}

int smtp_transaction(smtp_session *session, delivery *d, int *done, smtp_failure *fail,
                     int *reusable)
{
    trans   t = {.session = session,.d = d,.done = done,.fail = fail };
    int     pipelined = (session->features & SMTP_FEATURE_PIPELINING) != 0;
    int     mail_ok = 0;
    int     accepted;
    int     rc = SMTP_TRANS_DONE;

    *reusable = 0;
    t.relay = strbuf_new(64);
    t.accepted = xcalloc(d->req->rcpt_count ? d->req->rcpt_count : 1, sizeof(int));
    t.sent = xcalloc(d->req->rcpt_count ? d->req->rcpt_count : 1, sizeof(int));
    relay_text(&t);
    if (!size_and_utf8_ok(&t)) {
        *reusable = 1;
    } else if (send_envelope(&t, pipelined) < 0
               || (accepted = read_envelope_replies(&t, pipelined, &mail_ok)) < 0) {
        if (!fail->set)
            smtp_lost(session, "sending MAIL FROM", fail);
        rc = SMTP_TRANS_BROKEN;
    } else if (!pipelined && (!mail_ok || accepted == 0)) {
        *reusable = reset(&t);
    } else {
        if (!pipelined)
            smtp_command(session, smtp_cfg.data_init_timeout, "DATA");
        if (send_data(&t, mail_ok ? accepted : 0, reusable) < 0)
            rc = SMTP_TRANS_BROKEN;
    }
    free(t.accepted);
    free(t.sent);
    strbuf_free(t.relay);
    return rc;
}

/*
 * cleanup_final - what becomes of a message once its end record is in.
 *
 * cleanup_finish() decides, in this order:
 *
 *   no error, DISCARD     the file is removed; the client hears "queued"
 *                         (Postfix: claim delivery, drop the message)
 *   no error              E is written, the V record rewritten with the
 *                         sizes, the file committed (fsync, complete mode,
 *                         directory fsync) in incoming/, or in hold/ after a
 *                         HOLD action; then qmgr is woken with "I"
 *   a permanent error     with CLEANUP_FLAG_BOUNCE (local submission): the
 *   (content, hops,       message is completed but not marked complete, so
 *   size, recipients)     qmgr never takes it; each recipient is recorded
 *                         as failed in bounce/ID, the bounce service asked
 *                         to notify the sender from incoming/ID, and the
 *                         file removed. The client hears "queued" (the
 *                         message is dealt with); if the bounce service
 *                         cannot be reached, the client gets a temporary
 *                         error and submits it again later
 *   any other error       the file is removed; the client gets the error
 *
 * A commit failure turns into CLEANUP_STAT_WRITE, so a client only ever
 * says "queued" for mail that is on disk. Afterwards state->errs and
 * state->reason are the verdict for the client, and state->qf is NULL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "bounce_clnt.h"
#include "cleanup.h"
#include "dsn_log.h"
#include "mail_proto.h"
#include "mail_sanitize.h"
#include "msg.h"
#include "record.h"

#define CLEANUP_STAT_PERMANENT \
    (CLEANUP_STAT_CONT | CLEANUP_STAT_HOPS | CLEANUP_STAT_SIZE | CLEANUP_STAT_RCPT)
#define CLEANUP_STAT_TEMPORARY \
    (CLEANUP_STAT_BAD | CLEANUP_STAT_WRITE | CLEANUP_STAT_DEFER)

static void abort_file(cleanup_state *state)
{
    if (state->qf) {
        queue_file_abort(state->qf);
        state->qf = NULL;
    }
}

static void commit_file(cleanup_state *state)
{
    strbuf *why = strbuf_new(64);

    cleanup_out_record(state, REC_TYPE_END, "", 0);
    if (cleanup_out_sizes(state) < 0) {
        abort_file(state);
    } else if (queue_file_commit_as(state->qf, state->hold ? QUEUE_HOLD : QUEUE_INCOMING,
                                    QUEUE_MODE_COMPLETE, why) < 0) {
        state->qf = NULL;
        msg_warn("%s: %s", state->queue_id, why->data);
        cleanup_error(state, CLEANUP_STAT_WRITE, "4.3.0 queue file write error");
    } else {
        state->qf = NULL;
        if (!state->hold)
            (void) mail_trigger(MAIL_CLASS_PUBLIC, "qmgr", "I", 1);
    }
    strbuf_free(why);
}

/* "0.04", "1.2", "0": Postfix's delay notation (two decimals, no trailing zeros). */
static void format_delay(strbuf *out, double seconds)
{
    size_t  start = out->len;

    strbuf_append_printf(out, "%.2f", seconds < 0 ? 0.0 : seconds);
    while (out->len > start && out->data[out->len - 1] == '0')
        strbuf_truncate(out, out->len - 1);
    if (out->len > start && out->data[out->len - 1] == '.')
        strbuf_truncate(out, out->len - 1);
}

static void log_bounced(cleanup_state *state, const char *address, const char *orig,
                        const char *dsn, const char *text)
{
    struct timeval now;
    strbuf *line = strbuf_new(256);

    gettimeofday(&now, NULL);
    strbuf_printf(line, "%s: ", state->queue_id);
    log_address(line, "to", address, strlen(address));
    if (*orig && strcmp(orig, address) != 0) {
        strbuf_append_str(line, ", ");
        log_address(line, "orig_to", orig, strlen(orig));
    }
    strbuf_append_str(line, ", relay=none, delay=");
    format_delay(line, (double) (now.tv_sec - state->arrival.tv_sec)
                 + (now.tv_usec - state->arrival.tv_usec) / 1e6);
    strbuf_append_str(line, ", delays=");
    format_delay(line, (double) (now.tv_sec - state->arrival.tv_sec)
                 + (now.tv_usec - state->arrival.tv_usec) / 1e6);
    strbuf_append_printf(line, "/0/0/0, dsn=%s, status=bounced (%s)", dsn, text);
    msg_info("%s", line->data);
    strbuf_free(line);
}

/* Records every recipient as failed in bounce/ID; -1 when a log write failed. */
static int record_failures(cleanup_state *state, const char *dsn, const char *text)
{
    static cleanup_rcpt nobody = {"", "", "", 0, 0};
    strbuf *why = strbuf_new(64);
    size_t  count = state->rcpt_count ? state->rcpt_count : 1;
    int     rc = 0;

    for (size_t i = 0; i < count && rc == 0; i++) {
        const cleanup_rcpt *r = state->rcpt_count ? &state->rcpts[i] : &nobody;
        dsn_outcome outcome = {
            .recipient = r->address,.orig_rcpt = r->orig_rcpt,.dsn_orcpt = r->dsn_orcpt,
            .dsn_notify = r->dsn_notify,.offset = r->offset,.status = (char *) dsn,
            .action = "failed",.reason = (char *) text,.diag_type = "",.diag_text = "",
            .mta_type = "",.mta_name = "",
        };

        if ((rc = dsn_log_append(QUEUE_BOUNCE, state->queue_id, &outcome, why)) < 0)
            msg_warn("%s: %s", state->queue_id, why->data);
    }
    strbuf_free(why);
    return rc;
}

static int ask_bounce_service(cleanup_state *state)
{
    const char *dsn_ret = cleanup_attr(state, "dsn_ret");
    const char *smtputf8 = cleanup_attr(state, "smtputf8");
    bounce_message msg = {
        .queue_name = QUEUE_INCOMING,
        .queue_id = state->queue_id,
        .encoding = cleanup_attr(state, "encoding"),
        .smtputf8 = smtputf8 && strcmp(smtputf8, "1") == 0,
        .sender = state->sender->data,
        .dsn_envid = cleanup_attr(state, "dsn_envid"),
        .dsn_ret = dsn_ret ? (int) strtol(dsn_ret, NULL, 10) : 0,
    };

    return bounce_clnt_request("bounce", BOUNCE_FLUSH, &msg);
}

static void bounce_message_to_sender(cleanup_state *state)
{
    strbuf *dsn = strbuf_new(8);
    const char *space = strchr(state->reason->data, ' ');
    const char *text = space ? space + 1 : state->reason->data;

    strbuf_set_mem(dsn, state->reason->data, space ? (size_t) (space - state->reason->data) : 0);
    if (!dsn_status_valid(dsn->data))
        strbuf_set(dsn, "5.0.0");
    cleanup_out_record(state, REC_TYPE_END, "", 0);
    if (cleanup_out_sizes(state) < 0 || record_failures(state, dsn->data, text) < 0
        || ask_bounce_service(state) < 0) {
        (void) queue_file_remove(QUEUE_BOUNCE, state->queue_id);
        abort_file(state);
        state->errs = CLEANUP_STAT_WRITE;
        strbuf_set(state->reason, "4.3.0 bounce service unavailable, try again later");
    } else {
        for (size_t i = 0; i < state->rcpt_count; i++)
            log_bounced(state, state->rcpts[i].address, state->rcpts[i].orig_rcpt, dsn->data,
                        text);
        abort_file(state);
        state->errs = CLEANUP_STAT_OK;
        strbuf_reset(state->reason);
    }
    strbuf_free(dsn);
}

void    cleanup_finish(cleanup_state *state)
{
    if (state->discard && (state->errs & CLEANUP_STAT_TEMPORARY) == 0) {
        abort_file(state);
        state->errs = CLEANUP_STAT_OK;
        strbuf_reset(state->reason);
    } else if (state->errs == 0) {
        commit_file(state);
    } else if ((state->flags & CLEANUP_FLAG_BOUNCE) && (state->errs & CLEANUP_STAT_PERMANENT)
               && (state->errs & CLEANUP_STAT_TEMPORARY) == 0) {
        bounce_message_to_sender(state);
    } else {
        abort_file(state);
    }
}

/*
 * smtpd_data - DATA and BDAT: the message goes to cleanup.
 *
 * The cleanup connection (cleanup_clnt) opens when the content starts: at
 * DATA, or at the first BDAT chunk, after smtpd_data_restrictions. The
 * envelope kept since MAIL and RCPT goes first (attributes, S, the
 * recipient groups O Q N R, M), then the PREPEND headers of access
 * actions, our Received: header (with the queue ID cleanup gave us) and
 * the client's content, as smtp_data turns it into L and C records, then
 * X, the BCC recipients of access actions, and E. A REDIRECT action
 * replaces the recipients with its address; a DISCARD action (at any
 * stage, end of data included) lets the message be read and answered
 * "queued" while cleanup is left without an end record, so nothing is
 * kept.
 *
 * Only <CR><LF>.<CR><LF> ends DATA (smtpd_forbid_bare_newline decides
 * what a bare LF does, see smtp_data.h); BDAT reads exactly the announced
 * bytes. Content beyond message_size_limit is read and dropped; the
 * message is then refused with "552 5.3.4 Error: message file too big".
 * "250 2.0.0 Ok: queued as ID" is said only after cleanup_clnt_close()
 * returned 0: the queue file is on disk.
 *
 * A lost connection or a timeout inside the content ends the session
 * ("lost connection after DATA (N bytes) from ..."); cleanup is then
 * dropped without an end record, so no half message is ever queued.
 *
 * smtpd_data_abort() drops an open cleanup connection and the content
 * state (RSET, a new MAIL, the end of the session).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dsn.h"
#include "mail_addr.h"
#include "mail_date.h"
#include "mail_params.h"
#include "mail_sanitize.h"
#include "mem.h"
#include "msg.h"
#include "record.h"
#include "smtp_data.h"
#include "smtpd.h"

#define DATA_PIECE   65536              /* bytes read per deadline */
#define RECEIVED_HELO_MAX 255           /* HELO bytes shown: a host name's length */

typedef struct content {
    smtp_data *machine;
    unsigned long long bytes;           /* client bytes of the message */
    int     too_big;
} content;

static content *content_of(smtpd_state *state)
{
    return state->content;
}

void smtpd_data_abort(smtpd_state *state)
{
    content *c = content_of(state);

    if (state->cleanup) {
        cleanup_clnt_abort(state->cleanup);
        state->cleanup = NULL;
    }
    if (c) {
        smtp_data_free(c->machine);
        free(c);
        state->content = NULL;
    }
}

/* smtp_data output: a content record, unless the message is too big. */
static void content_record(void *context, int type, const char *data, size_t len)
{
    smtpd_state *state = context;
    content *c = content_of(state);

    if (!c->too_big && state->cleanup)
        rec_put(state->cleanup->stream, type, data, len);
}

/* Counts client bytes; returns 1 when the message just became too big. */
static int count_bytes(smtpd_state *state, size_t len)
{
    content *c = content_of(state);

    c->bytes += len;
    if (!c->too_big && var_message_size_limit > 0
        && c->bytes > (unsigned long long) var_message_size_limit) {
        c->too_big = 1;
        msg_warn("%s: queue file size limit exceeded", smtpd_queue_id(state));
        return 1;
    }
    return 0;
}

static void put_attribute(stream *s, const char *name, const char *value)
{
    rec_printf(s, REC_TYPE_ATTR, "%s=%s", name, value);
}

static void write_attributes(smtpd_state *state, stream *s)
{
    smtp_args *args = state->mail_args;

    put_attribute(s, "client_name", state->name->data);
    put_attribute(s, "client_address", state->addr->data);
    put_attribute(s, "client_port", state->port->data);
    if (state->helo_name)
        put_attribute(s, "helo_name", state->helo_name);
    put_attribute(s, "protocol", state->protocol);
    put_attribute(s, "rewrite_context", smtpd_rewrite_context_local(state) ? "local" : "remote");
    if (args->params & SMTP_PARAM_BODY)
        put_attribute(s, "encoding", args->body == SMTP_BODY_8BITMIME ? "8bitmime" : "7bit");
    if (args->params & SMTP_PARAM_SMTPUTF8)
        put_attribute(s, "smtputf8", "1");
    if (args->params & SMTP_PARAM_ENVID)
        put_attribute(s, "dsn_envid", args->envid->data);
    if (args->params & SMTP_PARAM_RET)
        rec_printf(s, REC_TYPE_ATTR, "dsn_ret=%d", args->ret);
    if (state->sasl_method) {
        put_attribute(s, "sasl_method", state->sasl_method);
        put_attribute(s, "sasl_username", state->sasl_username);
    }
    if (state->sasl_sender)
        put_attribute(s, "sasl_sender", state->sasl_sender);
}

/* "ID: client=NAME[ADDR], sasl_method=PLAIN, sasl_username=alice", as Postfix. */
static void log_client(smtpd_state *state)
{
    strbuf *sasl = strbuf_new(64);

    if (state->sasl_method)
        strbuf_append_printf(sasl, ", sasl_method=%s, sasl_username=%s", state->sasl_method,
                             state->sasl_username);
    if (state->sasl_sender)
        strbuf_append_printf(sasl, ", sasl_sender=%s", state->sasl_sender);
    msg_info("%s: client=%s%s", state->cleanup->queue_id, state->namaddr->data, sasl->data);
    strbuf_free(sasl);
}

static void write_envelope(smtpd_state *state)
{
    stream *s = state->cleanup->stream;

    write_attributes(state, s);
    rec_put_str(s, REC_TYPE_SENDER, state->sender);
    if (state->redirect->len) {
        rec_put_str(s, REC_TYPE_RCPT, state->redirect->data);
        rec_put(s, REC_TYPE_MESSAGE, "", 0);
        return;
    }
    for (size_t i = 0; i < state->rcpt_count; i++) {
        smtpd_recipient *rcpt = state->rcpts + i;

        rec_put_str(s, REC_TYPE_ORIG_RCPT, rcpt->address);
        rec_put_str(s, REC_TYPE_DSN_ORCPT, rcpt->orcpt);
        if (rcpt->notify)
            rec_printf(s, REC_TYPE_DSN_NOTIFY, "%d", rcpt->notify);
        rec_put_str(s, REC_TYPE_RCPT, rcpt->address);
    }
    rec_put(s, REC_TYPE_MESSAGE, "", 0);
}

/* RFC 3848: ESMTP with TLS is ESMTPS, with AUTH ESMTPA, with both ESMTPSA. */
static void received_protocol(const smtpd_state *state, strbuf *out)
{
    strbuf_set(out, state->protocol);
    if (strcmp(state->protocol, "ESMTP") != 0)
        return;
    if (state->tls)
        strbuf_append_char(out, 'S');
    if (state->sasl_username)
        strbuf_append_char(out, 'A');
}

/* The lines between "from" and "by": TLS details, the authenticated sender. */
static void write_received_details(smtpd_state *state, stream *s)
{
    argv_t *lines = argv_new(4);
    strbuf *line = strbuf_new(64);

    if (state->tls && var_smtpd_tls_received_header)
        tls_received_lines(&state->tls_info, lines);
    for (size_t i = 0; i < lines->count; i++)
        rec_put_str(s, REC_TYPE_LINE, lines->items[i]);
    if (state->sasl_username && var_smtpd_sasl_authenticated_header) {
        strbuf_set(line, "\t(Authenticated sender: ");
        sanitize_printable(line, state->sasl_username, strlen(state->sasl_username));
        strbuf_append_char(line, ')');
        rec_put(s, REC_TYPE_LINE, line->data, line->len);
    }
    strbuf_free(line);
    argv_free(lines);
}

/*
 * Our Received: header, Postfix's layout, every client string sanitized
 * and the HELO name cut to a host name's length, so the line stays within
 * RFC 5322's 998 bytes.
 */
static void write_received(smtpd_state *state)
{
    stream *s = state->cleanup->stream;
    strbuf *line = strbuf_new(256);
    strbuf *protocol = strbuf_new(16);
    const char *helo = state->helo_name ? state->helo_name : state->name->data;

    strbuf_set(line, "Received: from ");
    sanitize_printable(line, helo, strlen(helo) > RECEIVED_HELO_MAX ? RECEIVED_HELO_MAX
                       : strlen(helo));
    strbuf_append_printf(line, " (%s [%s])", state->name->data, state->rfc_addr->data);
    rec_put(s, REC_TYPE_LINE, line->data, line->len);
    write_received_details(state, s);
    received_protocol(state, protocol);
    strbuf_printf(line, "\tby %s (%s) with %s id %s", var_myhostname, var_mail_name,
                  protocol->data, state->cleanup->queue_id);
    if (state->rcpt_count == 1) {
        strbuf *rcpt = strbuf_new(64);

        rec_put(s, REC_TYPE_LINE, line->data, line->len);
        mail_addr_externalize(rcpt, state->rcpts[0].address, strlen(state->rcpts[0].address));
        strbuf_set(line, "\tfor <");
        sanitize_printable(line, rcpt->data, rcpt->len);
        strbuf_append_str(line, ">; ");
        strbuf_free(rcpt);
    } else {
        strbuf_append_char(line, ';');
        rec_put(s, REC_TYPE_LINE, line->data, line->len);
        strbuf_set(line, "\t");
    }
    mail_date_format(line, time(NULL));
    rec_put(s, REC_TYPE_LINE, line->data, line->len);
    strbuf_free(protocol);
    strbuf_free(line);
}

/*
 * Opens cleanup and writes everything before the client's content; the
 * content machine starts in `mode`. 0, or -1 after replying.
 */
static int start_message(smtpd_state *state, int mode, int at_line_start)
{
    strbuf *why = strbuf_new(64);
    content *c;

    state->cleanup = cleanup_clnt_open(CLEANUP_FLAG_FILTER | CLEANUP_FLAG_MAP_OK
                                       | (state->cleanup_flags & CLEANUP_FLAG_HOLD), why);
    if (state->cleanup == NULL) {
        msg_warn("%s: %s", state->namaddr->data, why->data);
        strbuf_free(why);
        smtpd_reply(state, "451 4.3.0 Error: queue file write error");
        return -1;
    }
    strbuf_free(why);
    log_client(state);
    write_envelope(state);
    for (size_t i = 0; i < state->prepend->count; i++)
        rec_put_str(state->cleanup->stream, REC_TYPE_LINE, state->prepend->items[i]);
    write_received(state);
    c = xcalloc(1, sizeof(*c));
    c->machine = smtp_data_new(mode, state->bare_lf_mode, (size_t) var_line_length_limit,
                               at_line_start, content_record, state);
    state->content = c;
    return 0;
}

/* Logs a lost connection or a timeout inside the content and ends the session. */
static void content_io_failed(smtpd_state *state, const char *verb)
{
    content *c = content_of(state);
    unsigned long long bytes = c ? c->bytes : 0;

    if (stream_timed_out(state->client)) {
        msg_info("timeout after %s (%llu bytes) from %s", verb, bytes, state->namaddr->data);
        stream_clear_status(state->client);
        smtpd_deadline_start(state);
        smtpd_reply(state, "421 4.4.2 %s Error: timeout exceeded", var_myhostname);
    } else {
        msg_info("lost connection after %s (%llu bytes) from %s", verb, bytes,
                 state->namaddr->data);
    }
    smtpd_transaction_reset(state);
    state->quit = 1;
}

/* The reply for a cleanup status other than 0. */
static void cleanup_failure_reply(smtpd_state *state, int status, const strbuf *reason)
{
    if ((status & CLEANUP_STAT_CONT) && reason->len && reason->data[0] == '5')
        smtpd_reply(state, "550 %s", reason->data);
    else if ((status & CLEANUP_STAT_DEFER) && reason->len && reason->data[0] == '4')
        smtpd_reply(state, "451 %s", reason->data);
    else if (status & CLEANUP_STAT_SIZE)
        smtpd_reply(state, "552 5.3.4 Error: message file too big");
    else if (status & CLEANUP_STAT_HOPS)
        smtpd_reply(state, "554 5.4.0 Error: too many hops");
    else if (status & CLEANUP_STAT_CONT)
        smtpd_reply(state, "550 5.7.1 Error: message content rejected");
    else if (status & CLEANUP_STAT_RCPT)
        smtpd_reply(state, "554 5.5.1 Error: no valid recipients");
    else
        smtpd_reply(state, "451 4.3.0 Error: queue file write error");
}

/* Finishes the message; on success the reply is "OK_PREFIX queued as ID". */
static int finish_message(smtpd_state *state, const char *ok_prefix)
{
    content *c = content_of(state);
    strbuf *reason = strbuf_new(64);
    strbuf *ok_reply = strbuf_from(ok_prefix);
    char    queue_id[QUEUE_ID_MAX + 1];
    int     status;

    state->where = "END-OF-MESSAGE";
    state->log_recipient = state->rcpt_count == 1 ? state->rcpts[0].address : NULL;
    if (c->machine->bare_lf && state->bare_lf_mode == SMTP_BARE_LF_REJECT) {
        smtpd_log_whatsup(state, "reject", "bare <LF> received");
        smtpd_reply(state, "%d 5.5.2 %s Error: bare <LF> received",
                    var_smtpd_forbid_bare_newline_reject_code, var_myhostname);
        status = -1;
    } else if (c->too_big) {
        smtpd_reply(state, "552 5.3.4 Error: message file too big");
        status = -1;
    } else if (smtpd_check_eod(state) != 0) {
        smtpd_reply(state, "%s", state->reply->data);
        status = -1;
    } else if (state->cleanup_flags & CLEANUP_FLAG_DISCARD) {
        smtpd_reply(state, "%s queued as %s", ok_reply->data, state->cleanup->queue_id);
        status = 0;
    } else {
        stream *s = state->cleanup->stream;

        rec_put(s, REC_TYPE_EXTRACTED, "", 0);
        for (size_t i = 0; i < state->bcc->count; i++)
            rec_put_str(s, REC_TYPE_RCPT, state->bcc->items[i]);
        rec_put(s, REC_TYPE_END, "", 0);
        snprintf(queue_id, sizeof(queue_id), "%s", state->cleanup->queue_id);
        status = cleanup_clnt_close(state->cleanup, reason);
        state->cleanup = NULL;
        if (status == 0)
            smtpd_reply(state, "%s queued as %s", ok_reply->data, queue_id);
        else
            cleanup_failure_reply(state, status, reason);
    }
    strbuf_free(reason);
    strbuf_free(ok_reply);
    smtpd_transaction_reset(state);
    return status == 0 ? SMTPD_OK : SMTPD_ERROR;
}

/* Checks common to DATA and the first BDAT chunk; 0 or -1 after replying. */
static int content_may_start(smtpd_state *state)
{
    if (state->rcpt_count == 0) {
        if (state->sender == NULL)
            smtpd_reply(state, "503 5.5.1 Error: need RCPT command");
        else
            smtpd_reply(state, "554 5.5.1 Error: no valid recipients");
        return -1;
    }
    state->log_recipient = state->rcpt_count == 1 ? state->rcpts[0].address : NULL;
    if (smtpd_check_data(state) != 0) {
        smtpd_reply(state, "%s", state->reply->data);
        return -1;
    }
    return 0;
}

/* Reads DATA content up to the end mark; 0, or -1 when the input failed. */
static int read_dot_content(smtpd_state *state)
{
    static strbuf *piece;
    content *c = content_of(state);
    enum stream_line status;

    if (piece == NULL)
        piece = strbuf_new(DATA_PIECE);
    while (!c->machine->done) {
        smtpd_deadline_start(state);
        status = stream_get_line(state->client, piece, DATA_PIECE);
        count_bytes(state, piece->len);
        if (status == STREAM_LINE_NONE || status == STREAM_LINE_LAST)
            return -1;
        smtp_data_feed(c->machine, piece->data, piece->len);
    }
    return 0;
}

int smtpd_data_cmd(smtpd_state *state)
{
    if (state->bdat != BDAT_NONE) {
        smtpd_reply(state, "503 5.5.1 Error: DATA after BDAT");
        return SMTPD_ERROR;
    }
    if (content_may_start(state) < 0)
        return SMTPD_ERROR;
    if (smtp_cmdline_words(state->cmd) != 1) {
        smtpd_reply(state, "501 5.5.4 Syntax: DATA");
        return SMTPD_ERROR;
    }
    if (start_message(state, SMTP_DATA_DOT,
                      !(state->cmd->flags & SMTP_CMDLINE_BARE_LF)) < 0)
        return SMTPD_ERROR;
    smtpd_reply(state, "354 End data with <CR><LF>.<CR><LF>");
    smtpd_reply_flush(state);
    if (read_dot_content(state) < 0) {
        content_io_failed(state, "DATA");
        return SMTPD_ERROR;
    }
    return finish_message(state, "250 2.0.0 Ok:");
}

/* Reads `size` chunk bytes, into the message or (content NULL) nowhere. */
static int read_chunk(smtpd_state *state, unsigned long long size)
{
    static char *buffer;
    content *c = content_of(state);

    if (buffer == NULL)
        buffer = xmalloc(DATA_PIECE);
    while (size > 0) {
        size_t  want = size < DATA_PIECE ? (size_t) size : DATA_PIECE;
        size_t  got;

        smtpd_deadline_start(state);
        if ((got = stream_read(state->client, buffer, want)) == 0)
            return -1;
        size -= got;
        if (c) {
            smtp_data_feed(c->machine, buffer, got);
            count_bytes(state, got);
        }
    }
    return 0;
}

/*
 * Skips a chunk after an error. At LAST the BDAT sequence and the
 * transaction end. 0, or -1 when the input failed (the session ends).
 */
static int skip_chunk(smtpd_state *state, unsigned long long size, int last)
{
    smtpd_data_abort(state);
    if (read_chunk(state, size) < 0) {
        content_io_failed(state, "BDAT");
        return -1;
    }
    if (last)
        smtpd_transaction_reset(state);
    else
        state->bdat = BDAT_FAILED;
    return 0;
}

static int bdat_syntax_error(smtpd_state *state)
{
    msg_warn("%s: malformed BDAT command syntax from %s: %.100s", smtpd_queue_id(state),
             state->namaddr->data, state->cmd->text->data);
    smtpd_reply(state, "521 5.5.4 Syntax: BDAT count [LAST]");
    state->quit = 1;
    return SMTPD_ERROR;
}

/* The first chunk: the checks of DATA, then cleanup opens. 0 or -1 (replied). */
static int bdat_start(smtpd_state *state)
{
    if (content_may_start(state) < 0 || start_message(state, SMTP_DATA_RAW, 1) < 0)
        return -1;
    state->bdat = BDAT_ACTIVE;
    return 0;
}

static int bdat_too_big(smtpd_state *state, unsigned long long size, int last)
{
    msg_warn("%s: BDAT request from %s exceeds message size limit", smtpd_queue_id(state),
             state->namaddr->data);
    if (skip_chunk(state, size, last) == 0)
        smtpd_reply(state, "552 5.3.4 Chunk exceeds message size limit");
    return SMTPD_ERROR;
}

int smtpd_bdat_cmd(smtpd_state *state)
{
    unsigned long long size;
    int     last;
    content *c;

    if (smtp_bdat_args(state->cmd->text->data + state->cmd->args,
                       state->cmd->text->len - state->cmd->args, &size, &last) < 0)
        return bdat_syntax_error(state);
    if (size == 0 && !last) {
        msg_warn("%s: null BDAT request from %s", smtpd_queue_id(state), state->namaddr->data);
        smtpd_data_abort(state);
        state->bdat = BDAT_FAILED;
        smtpd_reply(state, "551 5.7.1 Null BDAT request");
        return SMTPD_ERROR;
    }
    if (state->bdat == BDAT_FAILED) {
        if (skip_chunk(state, size, last) == 0)
            smtpd_reply(state, "551 5.0.0 Discarded %llu bytes after earlier error", size);
        return SMTPD_ERROR;
    }
    if (state->bdat == BDAT_NONE && bdat_start(state) < 0) {
        skip_chunk(state, size, last);
        return SMTPD_ERROR;
    }
    c = content_of(state);
    if (var_message_size_limit > 0
        && c->bytes + size > (unsigned long long) var_message_size_limit)
        return bdat_too_big(state, size, last);
    if (read_chunk(state, size) < 0) {
        content_io_failed(state, "BDAT");
        return SMTPD_ERROR;
    }
    if (!last) {
        smtpd_reply(state, "250 2.0.0 Ok: %llu bytes", c->bytes);
        return SMTPD_OK;
    }
    smtp_data_finish(c->machine);
    strbuf_printf(state->reply, "250 2.0.0 Ok: %llu bytes", c->bytes);
    return finish_message(state, state->reply->data);
}

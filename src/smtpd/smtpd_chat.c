/*
 * smtpd_chat - replies to the client and the session's log lines.
 *
 * smtpd_reply() writes one reply line (CR LF added) into the client
 * stream's buffer. Replies go out when the server next waits for input, so
 * a pipelined group of commands gets its replies in one write. Any byte of
 * the text outside printable ASCII becomes '?': no reply can carry a line
 * break the caller did not mean.
 *
 * smtpd_log_whatsup() logs Postfix's line for a decision:
 *   QUEUEID: reject: RCPT from NAME[ADDR]: TEXT; from=<s> to=<r> proto=ESMTP helo=<h>
 * (NOQUEUE before a queue file exists). smtpd_log_disconnect() logs the
 * command statistics: "disconnect from NAME[ADDR] ehlo=1 mail=1 rcpt=0/1
 * commands=2/3".
 */
#include <stdarg.h>
#include <string.h>

#include "mail_params.h"
#include "mail_sanitize.h"
#include "msg.h"
#include "smtpd.h"

static const struct {
    const char *name;                   /* "after NAME" */
    const char *counter;                /* disconnect statistics */
} command_names[CMD_COUNT] = {
    [CMD_HELO] = {"HELO", "helo"},
    [CMD_EHLO] = {"EHLO", "ehlo"},
    [CMD_STARTTLS] = {"STARTTLS", "starttls"},
    [CMD_AUTH] = {"AUTH", "auth"},
    [CMD_MAIL] = {"MAIL", "mail"},
    [CMD_RCPT] = {"RCPT", "rcpt"},
    [CMD_DATA] = {"DATA", "data"},
    [CMD_BDAT] = {"BDAT", "bdat"},
    [CMD_RSET] = {"RSET", "rset"},
    [CMD_NOOP] = {"NOOP", "noop"},
    [CMD_VRFY] = {"VRFY", "vrfy"},
    [CMD_ETRN] = {"ETRN", "etrn"},
    [CMD_QUIT] = {"QUIT", "quit"},
    [CMD_HELP] = {"HELP", "help"},
    [CMD_UNKNOWN] = {"UNKNOWN", "unknown"},
};

const char *smtpd_command_name(int id)
{
    return command_names[id].name;
}

void smtpd_reply(smtpd_state *state, const char *fmt, ...)
{
    static strbuf *text;
    static strbuf *clean;
    va_list ap;

    if (text == NULL) {
        text = strbuf_new(256);
        clean = strbuf_new(256);
    }
    strbuf_reset(text);
    va_start(ap, fmt);
    strbuf_append_vprintf(text, fmt, ap);
    va_end(ap);
    strbuf_reset(clean);
    sanitize_printable(clean, text->data, text->len);
    stream_write(state->client, clean->data, clean->len);
    stream_write(state->client, "\r\n", 2);
}

void smtpd_reply_flush(smtpd_state *state)
{
    smtpd_deadline_start(state);
    stream_flush(state->client);
}

const char *smtpd_queue_id(const smtpd_state *state)
{
    return state->cleanup ? state->cleanup->queue_id : "NOQUEUE";
}

void smtpd_log_whatsup(smtpd_state *state, const char *whatsup, const char *text)
{
    strbuf *details = strbuf_new(128);

    if (state->sender) {
        strbuf_append_char(details, ' ');
        log_address(details, "from", state->sender, strlen(state->sender));
    }
    if (state->log_recipient) {
        strbuf_append_char(details, ' ');
        log_address(details, "to", state->log_recipient, strlen(state->log_recipient));
    }
    strbuf_append_printf(details, " proto=%s", state->protocol);
    if (state->helo_name)
        strbuf_append_printf(details, " helo=<%s>", state->helo_name);
    msg_info("%s: %s: %s from %s: %s;%s", smtpd_queue_id(state), whatsup, state->where,
             state->namaddr->data, text, details->data);
    strbuf_free(details);
}

void smtpd_log_disconnect(smtpd_state *state)
{
    strbuf *text = strbuf_new(128);
    int     ok = 0;
    int     total = 0;

    for (int i = 0; i < CMD_COUNT; i++) {
        if (state->total[i] == 0)
            continue;
        if (state->ok[i] == state->total[i])
            strbuf_append_printf(text, " %s=%d", command_names[i].counter, state->ok[i]);
        else
            strbuf_append_printf(text, " %s=%d/%d", command_names[i].counter, state->ok[i],
                                 state->total[i]);
        ok += state->ok[i];
        total += state->total[i];
    }
    if (ok == total && total > 0)
        strbuf_append_printf(text, " commands=%d", total);
    else
        strbuf_append_printf(text, " commands=%d/%d", ok, total);
    msg_info("disconnect from %s%s", state->namaddr->data, text->data);
    strbuf_free(text);
}

/*
 * sendmail_smtp - "sendmail -bs": SMTP on standard input and output.
 *
 * Postfix runs its smtpd in stand-alone mode for -bs; Postern answers a
 * small dialogue itself and submits each message like "sendmail -bm", so
 * the message takes the same path (postdrop, maildrop/, pickup) with the
 * caller's uid. Commands: HELO, EHLO (PIPELINING, SIZE, ENHANCEDSTATUSCODES,
 * 8BITMIME, DSN), MAIL FROM (SIZE, BODY, RET, ENVID), RCPT TO (NOTIFY;
 * ORCPT is accepted and not kept), DATA, RSET, NOOP, QUIT; VRFY is
 * disabled; anything else is "500 5.5.2 Error: command not recognized".
 * Replies use Postfix's texts. Command lines are read at most
 * line_length_limit bytes at a time; DATA ends at a line holding a lone
 * "." (CR LF or LF: the client is a local program), leading dots are
 * unstuffed, and more than message_size_limit bytes of content get
 * "552 5.3.4 Error: message file too big". Each read waits at most
 * smtpd_timeout; end of input ends the session.
 *
 * sendmail_smtp() returns the exit status (0).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "mail_params.h"
#include "mem.h"
#include "record.h"
#include "sendmail.h"
#include "smtp_args.h"

typedef struct smtp_session {
    stream *in;
    stream *out;
    strbuf *line;
    smtp_args *args;
    int     have_mail;
    strbuf *sender;
    strbuf *envid;
    int     ret;
    int     body;
    argv_t *recipients;
    int    *notify;
    size_t  notify_cap;
    const char *fullname;
} smtp_session;

static void reply(smtp_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void reply(smtp_session *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    stream_vprintf(s->out, fmt, ap);
    va_end(ap);
    stream_puts(s->out, "\r\n");
    if (!stream_input_waiting(s->in))
        stream_flush(s->out);
}

static void reset(smtp_session *s)
{
    s->have_mail = 0;
    strbuf_reset(s->sender);
    strbuf_reset(s->envid);
    s->ret = s->body = 0;
    argv_truncate(s->recipients, 0);
}

/* The next line without its line end; 0 at end of input. Overlong lines are cut. */
static int read_line(smtp_session *s)
{
    enum stream_line got = stream_get_line(s->in, s->line, (size_t) var_line_length_limit);

    if (got == STREAM_LINE_NONE)
        return 0;
    if (got == STREAM_LINE_TOO_LONG) {
        strbuf *rest = strbuf_new(256);

        while (stream_get_line(s->in, rest, (size_t) var_line_length_limit)
               == STREAM_LINE_TOO_LONG)
            continue;
        strbuf_free(rest);
    }
    while (s->line->len && (s->line->data[s->line->len - 1] == '\n'
                            || s->line->data[s->line->len - 1] == '\r'))
        strbuf_truncate(s->line, s->line->len - 1);
    return 1;
}

static void ehlo(smtp_session *s)
{
    reply(s, "250-%s", var_myhostname);
    reply(s, "250-PIPELINING");
    reply(s, "250-SIZE %ld", var_message_size_limit);
    reply(s, "250-ENHANCEDSTATUSCODES");
    reply(s, "250-8BITMIME");
    reply(s, "250 DSN");
}

/* "MAIL FROM:" / "RCPT TO:" prefix match; returns the argument or NULL. */
static const char *command_argument(const char *line, const char *prefix)
{
    size_t  len = strlen(prefix);

    return strncasecmp(line, prefix, len) == 0 ? line + len : NULL;
}

static void mail_from(smtp_session *s, const char *arg)
{
    strbuf *text = strbuf_new(64);

    if (s->have_mail) {
        reply(s, "503 5.5.1 Error: nested MAIL command");
    } else if (smtp_args_parse(s->args, SMTP_ARGS_MAIL, arg, strlen(arg), SMTP_ARGS_DSN)
               != SMTP_ARGS_OK) {
        smtp_args_reply(text, s->args);
        reply(s, "%s", text->data);
    } else if (var_message_size_limit > 0 && s->args->size > var_message_size_limit) {
        reply(s, "552 5.3.4 Message size exceeds fixed limit");
    } else {
        s->have_mail = 1;
        strbuf_set_mem(s->sender, s->args->path->address->data, s->args->path->address->len);
        strbuf_set_mem(s->envid, s->args->envid->data, s->args->envid->len);
        s->ret = s->args->ret;
        s->body = s->args->body;
        reply(s, "250 2.1.0 Ok");
    }
    strbuf_free(text);
}

static void rcpt_to(smtp_session *s, const char *arg)
{
    strbuf *text = strbuf_new(64);

    if (!s->have_mail) {
        reply(s, "503 5.5.1 Error: need MAIL command");
    } else if (smtp_args_parse(s->args, SMTP_ARGS_RCPT, arg, strlen(arg), SMTP_ARGS_DSN)
               != SMTP_ARGS_OK) {
        smtp_args_reply(text, s->args);
        reply(s, "%s", text->data);
    } else {
        if (s->recipients->count == s->notify_cap) {
            s->notify_cap = s->notify_cap ? 2 * s->notify_cap : 8;
            s->notify = xreallocarray(s->notify, s->notify_cap, sizeof(*s->notify));
        }
        s->notify[s->recipients->count] = s->args->notify;
        argv_add(s->recipients, s->args->path->address->data);
        reply(s, "250 2.1.5 Ok");
    }
    strbuf_free(text);
}

/* Copies the DATA lines to postdrop; 1 when the content was too big. */
static int copy_data(smtp_session *s, postdrop_pipe *p)
{
    int     too_big = 0;

    while (read_line(s)) {
        const char *text = s->line->data;
        size_t  len = s->line->len;

        if (len == 1 && text[0] == '.')
            return too_big;
        if (len && text[0] == '.') {
            text++;
            len--;
        }
        if (var_message_size_limit > 0 && p->content_bytes + (long) len > var_message_size_limit)
            too_big = 1;
        if (!too_big)
            postdrop_content(p, REC_TYPE_LINE, text, len);
    }
    return -1;
}

static void data(smtp_session *s)
{
    sendmail_submission sub = {
        .sender = s->sender->data,.fullname = s->fullname,.recipients = s->recipients,
        .notify = s->notify,.dsn_ret = s->ret,
        .dsn_envid = s->envid->len ? s->envid->data : NULL,
        .encoding = s->body == SMTP_BODY_8BITMIME ? "8bitmime"
        : s->body == SMTP_BODY_7BIT ? "7bit" : NULL,
    };
    postdrop_pipe p;
    strbuf *queue_id = strbuf_new(32);
    int     rc;

    if (!s->have_mail || s->recipients->count == 0) {
        reply(s, s->have_mail ? "554 5.5.1 Error: no valid recipients"
              : "503 5.5.1 Error: need RCPT command");
        strbuf_free(queue_id);
        return;
    }
    reply(s, "354 End data with <CR><LF>.<CR><LF>");
    stream_flush(s->out);
    postdrop_start(&p, &sub);
    rc = copy_data(s, &p);
    if (rc != 0) {
        postdrop_abort(&p);
        if (rc > 0)
            reply(s, "552 5.3.4 Error: message file too big");
    } else if (postdrop_finish(&p, queue_id) != 0) {
        reply(s, "451 4.3.0 Error: queue file write error");
    } else {
        reply(s, "250 2.0.0 Ok: queued as %s", queue_id->data);
    }
    reset(s);
    strbuf_free(queue_id);
}

/* One command; 0 after QUIT. */
static int command(smtp_session *s)
{
    const char *line = s->line->data;
    const char *arg;

    if ((arg = command_argument(line, "MAIL FROM:")) != NULL)
        mail_from(s, arg);
    else if ((arg = command_argument(line, "RCPT TO:")) != NULL)
        rcpt_to(s, arg);
    else if (strncasecmp(line, "HELO ", 5) == 0 && line[5])
        reply(s, "250 %s", var_myhostname);
    else if (strncasecmp(line, "EHLO ", 5) == 0 && line[5])
        ehlo(s);
    else if (strcasecmp(line, "DATA") == 0)
        data(s);
    else if (strcasecmp(line, "RSET") == 0) {
        reset(s);
        reply(s, "250 2.0.0 Ok");
    } else if (strcasecmp(line, "NOOP") == 0)
        reply(s, "250 2.0.0 Ok");
    else if (strncasecmp(line, "VRFY", 4) == 0)
        reply(s, "502 5.5.1 VRFY command is disabled");
    else if (strcasecmp(line, "QUIT") == 0) {
        reply(s, "221 2.0.0 Bye");
        return 0;
    } else if (strcasecmp(line, "HELO") == 0 || strcasecmp(line, "EHLO") == 0)
        reply(s, "501 Syntax: %s hostname", strncasecmp(line, "HELO", 4) == 0 ? "HELO" : "EHLO");
    else
        reply(s, "500 5.5.2 Error: command not recognized");
    return 1;
}

int     sendmail_smtp(const char *fullname)
{
    smtp_session s = {
        .in = stream_open_fd(0, var_smtpd_timeout),
        .out = stream_open_fd(1, var_smtpd_timeout),
        .line = strbuf_new(256),
        .args = smtp_args_new(),
        .sender = strbuf_new(64),
        .envid = strbuf_new(16),
        .recipients = argv_new(8),
        .fullname = fullname,
    };

    reply(&s, "220 %s", var_smtpd_banner);
    while (read_line(&s) && command(&s))
        continue;
    stream_flush(s.out);
    stream_release(s.in);
    stream_release(s.out);
    strbuf_free(s.line);
    smtp_args_free(s.args);
    strbuf_free(s.sender);
    strbuf_free(s.envid);
    argv_free(s.recipients);
    free(s.notify);
    return 0;
}

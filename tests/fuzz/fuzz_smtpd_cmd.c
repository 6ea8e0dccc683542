/*
 * libFuzzer target: an SMTP command line as smtpd reads it (smtp_cmdline),
 * and the arguments smtpd parses from it: MAIL FROM / RCPT TO (smtp_args),
 * BDAT count [LAST].
 *
 * The first input byte selects whether the line is complete (bit 0) and
 * the smtp_args flags (the rest); the remaining bytes are the line as
 * read. Checked on every input: no crash or leak (ASan); the command text
 * holds no NUL and no more than the input; the verb and argument offsets
 * lie inside the text; every reply and escaped log text is printable
 * ASCII; an accepted address holds no control character.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp_args.h"
#include "smtp_cmdline.h"

static void check_printable(const strbuf *text)
{
    for (size_t i = 0; i < text->len; i++)
        if ((unsigned char) text->data[i] < 0x20 || (unsigned char) text->data[i] > 0x7E)
            abort();
}

static void check_no_controls(const strbuf *text)
{
    for (size_t i = 0; i < text->len; i++)
        if ((unsigned char) text->data[i] < 0x20 || text->data[i] == 0x7F)
            abort();
}

/* MAIL FROM: / RCPT TO: arguments, as smtpd passes them to smtp_args. */
static void parse_path_command(const smtp_cmdline *cmd, int kind, const char *prefix, int flags)
{
    const char *args = cmd->text->data + cmd->args;
    size_t  len = cmd->text->len - cmd->args;
    size_t  plen = strlen(prefix);
    smtp_args *parsed;
    strbuf *reply;

    if (len < plen || strncasecmp(args, prefix, plen) != 0)
        return;
    parsed = smtp_args_new();
    reply = strbuf_new(0);
    smtp_args_parse(parsed, kind, args + plen, len - plen, flags);
    smtp_args_reply(reply, parsed);
    check_printable(reply);
    if (parsed->status == SMTP_ARGS_OK)
        check_no_controls(parsed->path->address);
    strbuf_free(reply);
    smtp_args_free(parsed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smtp_cmdline *cmd;
    strbuf *escaped;
    unsigned long long count;
    int     last;

    if (size < 1)
        return 0;
    cmd = smtp_cmdline_new();
    smtp_cmdline_set(cmd, (const char *) data + 1, size - 1, data[0] & 1);
    if (cmd->text->len > size - 1 || memchr(cmd->text->data, 0, cmd->text->len)
        || cmd->verb_len > cmd->text->len || cmd->args > cmd->text->len
        || smtp_cmdline_words(cmd) < 0)
        abort();
    smtp_cmdline_header_like(cmd);
    escaped = strbuf_new(0);
    smtp_escape(escaped, cmd->text->data, cmd->text->len, 100);
    check_printable(escaped);
    if (smtp_cmdline_verb_is(cmd, "MAIL"))
        parse_path_command(cmd, SMTP_ARGS_MAIL, "FROM:", data[0] >> 1);
    else if (smtp_cmdline_verb_is(cmd, "RCPT"))
        parse_path_command(cmd, SMTP_ARGS_RCPT, "TO:", data[0] >> 1);
    else if (smtp_cmdline_verb_is(cmd, "BDAT")
             && smtp_bdat_args(cmd->text->data + cmd->args, cmd->text->len - cmd->args,
                               &count, &last) == 0 && count > 999999999999999999ULL)
        abort();
    strbuf_free(escaped);
    smtp_cmdline_free(cmd);
    return 0;
}

/*
 * smtp_cmdline - one SMTP command line as a server reads it. See smtp_cmdline.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail_utf8.h"
#include "mem.h"
#include "smtp_cmdline.h"

smtp_cmdline *smtp_cmdline_new(void)
{
    smtp_cmdline *cmd = xcalloc(1, sizeof(*cmd));

    cmd->text = strbuf_new(256);
    return cmd;
}

void smtp_cmdline_free(smtp_cmdline *cmd)
{
    strbuf_free(cmd->text);
    free(cmd);
}

static int is_blank(int ch)
{
    return ch == ' ' || ch == '\t';
}

/* Sets the CONTROL, 8BIT and BAD_UTF8 flags from the text. */
static void classify(smtp_cmdline *cmd)
{
    const unsigned char *text = (const unsigned char *) cmd->text->data;

    for (size_t i = 0; i < cmd->text->len; i++) {
        if ((text[i] < 0x20 && text[i] != '\t') || text[i] == 0x7F)
            cmd->flags |= SMTP_CMDLINE_CONTROL;
        else if (text[i] > 0x7F)
            cmd->flags |= SMTP_CMDLINE_8BIT;
    }
    if ((cmd->flags & SMTP_CMDLINE_8BIT) && !utf8_valid(cmd->text->data, cmd->text->len))
        cmd->flags |= SMTP_CMDLINE_BAD_UTF8;
}

void smtp_cmdline_set(smtp_cmdline *cmd, const char *line, size_t len, int complete)
{
    const char *nul;

    cmd->flags = 0;
    if (complete && len > 0 && line[len - 1] == '\n') {
        len--;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        else
            cmd->flags |= SMTP_CMDLINE_BARE_LF;
    } else {
        cmd->flags |= SMTP_CMDLINE_CUT;
    }
    if ((nul = memchr(line, 0, len)) != NULL) {
        len = (size_t) (nul - line);
        cmd->flags |= SMTP_CMDLINE_NUL;
    }
    strbuf_set_mem(cmd->text, line, len);
    classify(cmd);
    for (cmd->verb_len = 0; cmd->verb_len < len && !is_blank(line[cmd->verb_len]);)
        cmd->verb_len++;
    for (cmd->args = cmd->verb_len; cmd->args < len && is_blank(line[cmd->args]);)
        cmd->args++;
}

int smtp_cmdline_verb_is(const smtp_cmdline *cmd, const char *verb)
{
    size_t  len = strlen(verb);

    return len == cmd->verb_len && strncasecmp(cmd->text->data, verb, len) == 0;
}

int smtp_cmdline_words(const smtp_cmdline *cmd)
{
    const char *text = cmd->text->data;
    size_t  len = cmd->text->len;
    int     words = 0;

    for (size_t i = 0; i < len;) {
        while (i < len && is_blank(text[i]))
            i++;
        if (i == len)
            break;
        words++;
        while (i < len && !is_blank(text[i]))
            i++;
    }
    return words;
}

int smtp_cmdline_header_like(const smtp_cmdline *cmd)
{
    const unsigned char *text = (const unsigned char *) cmd->text->data;
    size_t  i = 0;

    while (i < cmd->text->len && text[i] > 0x20 && text[i] < 0x7F && text[i] != ':')
        i++;
    return i > 0 && i < cmd->text->len && text[i] == ':';
}

int smtp_bdat_args(const char *text, size_t len, unsigned long long *size, int *last)
{
    size_t  i = 0;
    unsigned long long value = 0;

    while (i < len && text[i] >= '0' && text[i] <= '9') {
        if (i >= SMTP_BDAT_MAX_DIGITS)
            return -1;
        value = value * 10 + (unsigned long long) (text[i] - '0');
        i++;
    }
    if (i == 0)
        return -1;
    *size = value;
    *last = 0;
    if (i < len && !is_blank(text[i]))
        return -1;
    while (i < len && is_blank(text[i]))
        i++;
    if (i == len)
        return 0;
    if (len - i < 4 || strncasecmp(text + i, "LAST", 4) != 0)
        return -1;
    for (i += 4; i < len; i++)
        if (!is_blank(text[i]))
            return -1;
    *last = 1;
    return 0;
}

void smtp_escape(strbuf *out, const char *data, size_t len, size_t limit)
{
    if (len > limit)
        len = limit;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) data[i];

        if (ch == '\r')
            strbuf_append_str(out, "\\r");
        else if (ch == '\n')
            strbuf_append_str(out, "\\n");
        else if (ch == '\t')
            strbuf_append_str(out, "\\t");
        else if (ch == '\\')
            strbuf_append_str(out, "\\\\");
        else if (ch < 0x20 || ch > 0x7E)
            strbuf_append_printf(out, "\\%03o", ch);
        else
            strbuf_append_char(out, ch);
    }
}

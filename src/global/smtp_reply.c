/*
 * smtp_reply - read one server reply, bounded and sanitized. See smtp_reply.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail_sanitize.h"
#include "mem.h"
#include "smtp_reply.h"

/* Where the lines come from: a stream or a memory buffer. */
typedef struct reply_source {
    stream *stream;
    const char *data;
    size_t  len;
    size_t  pos;
} reply_source;

smtp_reply *smtp_reply_new(void)
{
    smtp_reply *r = xcalloc(1, sizeof(*r));

    r->text = strbuf_new(128);
    r->lines = argv_new(8);
    r->line = strbuf_new(128);
    return r;
}

void smtp_reply_free(smtp_reply *r)
{
    if (r == NULL)
        return;
    strbuf_free(r->text);
    argv_free(r->lines);
    strbuf_free(r->line);
    free(r);
}

/* One line into r->line, without its terminator; -1 at EOF or error. */
static int next_line(reply_source *src, strbuf *line, size_t limit)
{
    if (src->stream) {
        enum stream_line got = stream_get_line(src->stream, line, limit);

        if (got == STREAM_LINE_NONE || got == STREAM_LINE_LAST)
            return -1;
        if (got == STREAM_LINE_TOO_LONG) {
            strbuf *rest = strbuf_new(256);
            enum stream_line more;

            do
                more = stream_get_line(src->stream, rest, 4096);
            while (more == STREAM_LINE_TOO_LONG);
            strbuf_free(rest);
            if (more != STREAM_LINE_COMPLETE)
                return -1;
        }
    } else {
        const char *start = src->data + src->pos;
        const char *nl = memchr(start, '\n', src->len - src->pos);
        size_t  take;

        if (nl == NULL)
            return -1;
        take = (size_t) (nl - start);
        strbuf_set_mem(line, start, take < limit ? take : limit);
        src->pos += take + 1;
    }
    if (strbuf_last(line) == '\n')
        strbuf_truncate(line, line->len - 1);
    if (strbuf_last(line) == '\r')
        strbuf_truncate(line, line->len - 1);
    return 0;
}

static int reply_code(const char *p, size_t len)
{
    if (len < 3 || p[0] < '1' || p[0] > '5' || p[1] < '0' || p[1] > '5'
        || !isdigit((unsigned char) p[2]))
        return 0;
    if (len > 3 && p[3] != ' ' && p[3] != '-')
        return 0;
    return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

static size_t digits_at(const char *p, size_t len, size_t max)
{
    size_t  n = 0;

    while (n < len && n <= max && isdigit((unsigned char) p[n]))
        n++;
    return n;
}

int smtp_reply_dsn_extract(const char *text, size_t len, int code, char *dsn)
{
    size_t  subject;
    size_t  detail;

    if (len >= 5 && text[0] == '0' + code / 100 && text[1] == '.'
        && (subject = digits_at(text + 2, len - 2, 3)) >= 1 && subject <= 3
        && 2 + subject < len && text[2 + subject] == '.'
        && (detail = digits_at(text + 3 + subject, len - 3 - subject, 3)) >= 1
        && detail <= 3
        && (3 + subject + detail == len || text[3 + subject + detail] == ' ')) {
        memcpy(dsn, text, 3 + subject + detail);
        dsn[3 + subject + detail] = 0;
        return 1;
    }
    snprintf(dsn, SMTP_REPLY_DSN_MAX, "%d.0.0", code / 100);
    return 0;
}

static void append_text(smtp_reply *r, const char *line, size_t len, size_t limit)
{
    size_t  room;

    if (limit > SMTP_REPLY_TEXT_MAX)
        limit = SMTP_REPLY_TEXT_MAX;
    if (r->text->len >= limit)
        return;
    if (r->text->len)
        strbuf_append_char(r->text, ' ');
    room = limit - r->text->len;
    sanitize_printable(r->text, line, len < room ? len : room);
}

static int read_reply(reply_source *src, smtp_reply *r, size_t line_limit)
{
    size_t  count;

    r->code = 0;
    strbuf_reset(r->text);
    argv_truncate(r->lines, 0);
    if (line_limit < 8)
        line_limit = 8;
    for (count = 0; count < SMTP_REPLY_LINES_MAX; count++) {
        strbuf *words = strbuf_new(64);
        int     code;
        size_t  len;

        if (next_line(src, r->line, line_limit) < 0) {
            strbuf_free(words);
            return SMTP_REPLY_IO;
        }
        len = r->line->len;
        if ((code = reply_code(r->line->data, len)) == 0) {
            r->code = 0;
            strbuf_set(r->text, "malformed reply: ");
            sanitize_printable(r->text, r->line->data, len < 80 ? len : 80);
            strbuf_free(words);
            return SMTP_REPLY_BAD;
        }
        if (count == 0) {
            r->code = code;
            smtp_reply_dsn_extract(len > 4 ? r->line->data + 4 : "", len > 4 ? len - 4 : 0,
                                   code, r->dsn);
        }
        append_text(r, r->line->data, len, line_limit);
        if (len > 4)
            sanitize_printable(words, r->line->data + 4, len - 4);
        argv_add(r->lines, words->data);
        strbuf_free(words);
        if (len == 3 || r->line->data[3] == ' ')
            return SMTP_REPLY_OK;
    }
    r->code = 0;
    strbuf_set(r->text, "reply with too many lines");
    return SMTP_REPLY_BAD;
}

int smtp_reply_read(stream *s, smtp_reply *r, size_t line_limit)
{
    reply_source src = {.stream = s };

    return read_reply(&src, r, line_limit);
}

int smtp_reply_parse(const char *data, size_t len, smtp_reply *r, size_t line_limit)
{
    reply_source src = {.data = data,.len = len };

    return read_reply(&src, r, line_limit);
}

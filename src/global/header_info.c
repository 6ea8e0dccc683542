/*
 * header_info - header names, known headers, header blocks. See header_info.h.
 */
#include <string.h>
#include <strings.h>

#include "header_info.h"
#include "mail_ctype.h"

#define ADDR_RCPT   (HEADER_F_ADDRESS | HEADER_F_RECIPIENT)
#define ADDR_SNDR   (HEADER_F_ADDRESS | HEADER_F_SENDER)
#define RESENT      HEADER_F_RESENT

static const header_info known_headers[] = {
    {"From", HEADER_FROM, ADDR_SNDR},
    {"Sender", HEADER_SENDER, ADDR_SNDR},
    {"Reply-To", HEADER_REPLY_TO, ADDR_SNDR},
    {"To", HEADER_TO, ADDR_RCPT},
    {"Cc", HEADER_CC, ADDR_RCPT},
    {"Bcc", HEADER_BCC, ADDR_RCPT},
    {"Resent-From", HEADER_RESENT_FROM, ADDR_SNDR | RESENT},
    {"Resent-Sender", HEADER_RESENT_SENDER, ADDR_SNDR | RESENT},
    {"Resent-Reply-To", HEADER_RESENT_REPLY_TO, ADDR_SNDR | RESENT},
    {"Resent-To", HEADER_RESENT_TO, ADDR_RCPT | RESENT},
    {"Resent-Cc", HEADER_RESENT_CC, ADDR_RCPT | RESENT},
    {"Resent-Bcc", HEADER_RESENT_BCC, ADDR_RCPT | RESENT},
    {"Resent-Date", HEADER_RESENT_DATE, RESENT},
    {"Resent-Message-ID", HEADER_RESENT_MESSAGE_ID, RESENT},
    {"Return-Receipt-To", HEADER_RETURN_RECEIPT_TO, ADDR_SNDR},
    {"Errors-To", HEADER_ERRORS_TO, ADDR_SNDR},
    {"Disposition-Notification-To", HEADER_DISPOSITION_NOTIFICATION_TO, ADDR_SNDR},
    {"Received", HEADER_RECEIVED, 0},
    {"Return-Path", HEADER_RETURN_PATH, 0},
    {"Delivered-To", HEADER_DELIVERED_TO, 0},
    {"X-Original-To", HEADER_X_ORIGINAL_TO, 0},
    {"Message-ID", HEADER_MESSAGE_ID, 0},
    {"Date", HEADER_DATE, 0},
    {"Subject", HEADER_SUBJECT, 0},
    {"MIME-Version", HEADER_MIME_VERSION, HEADER_F_MIME},
    {"Content-Type", HEADER_CONTENT_TYPE, HEADER_F_MIME},
    {"Content-Transfer-Encoding", HEADER_CONTENT_TRANSFER_ENCODING, HEADER_F_MIME},
};

#define KNOWN_HEADER_COUNT (sizeof(known_headers) / sizeof(known_headers[0]))

static int is_ftext(int ch)
{
    return ch >= 33 && ch <= 126 && ch != ':';
}

int header_name_valid(const char *name, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_ftext((unsigned char) name[i]))
            return 0;
    return 1;
}

int header_parse_name(const char *line, size_t len, size_t *name_len, size_t *value_start)
{
    size_t  pos = 0;
    size_t  name_end;

    while (pos < len && is_ftext((unsigned char) line[pos]))
        pos++;
    if (pos == 0)
        return 0;
    name_end = pos;
    while (pos < len && mail_is_blank(line[pos]))
        pos++;
    if (pos == len || line[pos] != ':')
        return 0;
    *name_len = name_end;
    *value_start = pos + 1;
    return 1;
}

const header_info *header_info_find(const char *name, size_t len)
{
    for (size_t i = 0; i < KNOWN_HEADER_COUNT; i++)
        if (strlen(known_headers[i].name) == len
            && strncasecmp(known_headers[i].name, name, len) == 0)
            return &known_headers[i];
    return NULL;
}

void header_cursor_init(header_cursor *cursor, const char *text, size_t len)
{
    cursor->text = text;
    cursor->len = len;
    cursor->pos = 0;
}

/*
 * The line at pos: *end is where its content stops (before LF or CR LF);
 * returns the offset of the line after it.
 */
static size_t next_line(const header_cursor *cursor, size_t pos, size_t *end)
{
    const char *newline = memchr(cursor->text + pos, '\n', cursor->len - pos);

    if (newline == NULL) {
        *end = cursor->len;
        return cursor->len;
    }
    *end = (size_t) (newline - cursor->text);
    if (*end > pos && cursor->text[*end - 1] == '\r')
        (*end)--;
    return (size_t) (newline - cursor->text) + 1;
}

int header_next(header_cursor *cursor, header_field *field)
{
    size_t  start = cursor->pos;
    size_t  end;
    size_t  next;

    if (start >= cursor->len)
        return 0;
    next = next_line(cursor, start, &end);
    if (end == start) {
        cursor->pos = next;                     /* the empty line: body follows */
        return 0;
    }
    field->text = cursor->text + start;
    field->lines = 1;
    if (!header_parse_name(field->text, end - start, &field->name_len, &field->value_start))
        field->name_len = field->value_start = 0;
    while (next < cursor->len && mail_is_blank(cursor->text[next])) {
        next = next_line(cursor, next, &end);
        field->lines++;
    }
    field->len = end - start;
    cursor->pos = next;
    return 1;
}

void header_unfold(strbuf *out, const char *field, size_t len)
{
    strbuf_reserve(out, len);
    for (size_t i = 0; i < len; i++) {
        if (field[i] == '\n')
            continue;
        if (field[i] == '\r' && i + 1 < len && field[i + 1] == '\n')
            continue;
        strbuf_append_char(out, field[i]);
    }
}

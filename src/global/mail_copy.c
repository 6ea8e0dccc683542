/*
 * mail_copy - write a queued message out. See mail_copy.h.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "header_info.h"
#include "mail_addr.h"
#include "mail_copy.h"
#include "queue_envelope.h"
#include "record.h"

static int content_start(stream *queue, long data_offset)
{
    queue_envelope env;

    memset(&env, 0, sizeof(env));
    env.sizes.content_offset = data_offset;
    return queue_content_start(queue, &env);
}

static void put_header_address(stream *out, const char *name, const char *address,
                               int brackets, const char *eol)
{
    strbuf *ext = strbuf_new(64);

    mail_addr_externalize(ext, address, strlen(address));
    stream_printf(out, brackets ? "%s: <%s>%s" : "%s: %s%s", name, ext->data, eol);
    strbuf_free(ext);
}

static void put_from_line(stream *out, const char *sender, const char *eol)
{
    strbuf *ext = strbuf_new(64);
    time_t  now = time(NULL);
    char    date[32];
    struct tm tm;

    if (*sender)
        mail_addr_externalize(ext, sender, strlen(sender));
    else
        strbuf_set(ext, "MAILER-DAEMON");
    localtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
    stream_printf(out, "From %s  %s%s", ext->data, date, eol);
    strbuf_free(ext);
}

static void put_prefix_headers(stream *out, const mail_copy_args *args, const char *eol)
{
    if (args->flags & MAIL_COPY_FROM)
        put_from_line(out, args->sender, eol);
    if (args->flags & MAIL_COPY_RETURN_PATH)
        put_header_address(out, "Return-Path", args->sender, 1, eol);
    if ((args->flags & MAIL_COPY_ORIG_RCPT) && args->orig_rcpt && *args->orig_rcpt)
        put_header_address(out, "X-Original-To", args->orig_rcpt, 0, eol);
    if ((args->flags & MAIL_COPY_DELIVERED) && args->delivered_to)
        put_header_address(out, "Delivered-To", args->delivered_to, 0, eol);
}

int mail_copy(stream *queue, long data_offset, stream *out, const mail_copy_args *args,
              strbuf *why)
{
    const char *eol = args->eol ? args->eol : "\n";
    int     quote = args->flags & MAIL_COPY_QUOTE;
    strbuf *data = strbuf_new(256);
    int     line_start = 1;
    int     type;

    strbuf_reset(why);
    if (content_start(queue, data_offset) < 0) {
        strbuf_free(data);
        strbuf_set(why, "error reading message: queue file damaged");
        return MAIL_COPY_READ_ERROR;
    }
    put_prefix_headers(out, args, eol);
    while ((type = queue_content_next(queue, data)) == REC_TYPE_LINE
           || type == REC_TYPE_PARTIAL) {
        if (line_start && quote && data->len >= 5 && memcmp(data->data, "From ", 5) == 0)
            stream_putc(out, '>');
        if (line_start && (args->flags & MAIL_COPY_DOT) && data->len && data->data[0] == '.')
            stream_putc(out, '.');
        stream_write(out, data->data, data->len);
        if ((line_start = (type == REC_TYPE_LINE)))
            stream_puts(out, eol);
    }
    strbuf_free(data);
    if (type != REC_TYPE_EXTRACTED) {
        strbuf_set(why, "error reading message: queue file damaged");
        return MAIL_COPY_READ_ERROR;
    }
    if (args->flags & MAIL_COPY_BLANK)
        stream_puts(out, eol);
    if (stream_flush(out) < 0 || stream_status(out)) {
        int     saved = errno ? errno : EIO;

        strbuf_printf(why, "error writing message: %s", strerror(saved));
        errno = saved;
        return MAIL_COPY_WRITE_ERROR;
    }
    return MAIL_COPY_OK;
}

/* Compares one unfolded header field with "Delivered-To: address". */
static int is_delivered_to(const strbuf *field, const char *address)
{
    size_t  name_len;
    size_t  value_start;
    const char *value;
    size_t  len;

    if (!header_parse_name(field->data, field->len, &name_len, &value_start)
        || name_len != 12 || strncasecmp(field->data, "Delivered-To", 12) != 0)
        return 0;
    value = field->data + value_start;
    len = field->len - value_start;
    while (len && (*value == ' ' || *value == '\t'))
        value++, len--;
    while (len && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    return len == strlen(address) && strncasecmp(value, address, len) == 0;
}

int mail_copy_has_delivered_to(stream *queue, long data_offset, const char *address)
{
    strbuf *data = strbuf_new(256);
    strbuf *field = strbuf_new(256);
    strbuf *ext = strbuf_new(64);
    int     found = 0;
    int     type = 0;

    mail_addr_externalize(ext, address, strlen(address));
    if (content_start(queue, data_offset) < 0)
        found = -1;
    while (found == 0 && (type = queue_content_next(queue, data)) == REC_TYPE_LINE) {
        if (data->len && (data->data[0] == ' ' || data->data[0] == '\t')) {
            if (field->len < 4096)
                strbuf_append(field, data->data, data->len);
            continue;
        }
        if (field->len && is_delivered_to(field, ext->data))
            found = 1;
        strbuf_set_mem(field, data->data, data->len);
        if (data->len == 0)
            break;
    }
    if (found == 0 && field->len && is_delivered_to(field, ext->data))
        found = 1;
    if (found == 0 && type < 0)
        found = -1;
    strbuf_free(data);
    strbuf_free(field);
    strbuf_free(ext);
    return found;
}

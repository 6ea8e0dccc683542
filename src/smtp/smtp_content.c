/*
 * smtp_content - the message as it goes on the wire after DATA.
 *
 * Lines end in CRLF; a line starting with '.' gets another '.'; a line
 * longer than smtp_line_length_limit is broken there (CRLF, and a space in
 * headers, so a broken header stays one header). The header block is read
 * one logical header at a time (continuation lines included, at most
 * header_size_limit bytes; a longer one is sent as it is) so that
 * smtp_header_checks can act on it (IGNORE, REPLACE, PREPEND, WARN, INFO,
 * DUNNO, OK; other actions are logged and ignored, as they cannot work
 * after the server has accepted the recipients) and smtp_generic_maps can
 * rewrite the addresses in address headers. The body goes out as stored.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr_find.h"
#include "config.h"
#include "header_addr.h"
#include "header_info.h"
#include "mail_params.h"
#include "mail_sanitize.h"
#include "msg.h"
#include "queue_envelope.h"
#include "record.h"
#include "smtp.h"

#define SMTP_HEADER_SIZE_DEFAULT  102400

typedef struct content {
    smtp_session *session;
    delivery *d;
    stream *out;
    size_t  column;                     /* bytes on the current output line */
    int     in_header;
    strbuf *header;                     /* logical header being collected */
    size_t  header_limit;
    strbuf *why;
} content;

void smtp_generic_rewrite(strbuf *address)
{
    addr_find_opts opts = {.strategy = ADDR_FIND_VIRTUAL,.domain_is_local = 1 };
    const char *value;

    if (smtp_cfg.generic_maps == NULL || address->len == 0)
        return;
    if (addr_find(smtp_cfg.generic_maps, address->data, &opts, &value, NULL) == MAP_OK)
        strbuf_set(address, value);
}

/* Writes bytes of one line, breaking it at the length limit. */
static void put_piece(content *c, const char *data, size_t len, int header)
{
    size_t  limit = smtp_cfg.line_length_limit > 0 ? (size_t) smtp_cfg.line_length_limit : 0;

    while (len > 0) {
        size_t  take = len;

        if (c->column == 0 && *data == '.')
            stream_putc(c->out, '.');
        if (limit && c->column + take > limit)
            take = limit > c->column ? limit - c->column : 0;
        if (take == 0) {
            stream_puts(c->out, header ? "\r\n " : "\r\n");
            c->column = header ? 1 : 0;
            continue;
        }
        stream_write(c->out, data, take);
        c->column += take;
        data += take;
        len -= take;
    }
}

static void end_line(content *c)
{
    stream_puts(c->out, "\r\n");
    c->column = 0;
}

/* Emits a logical header: its physical lines are separated by '\n'. */
static void put_header(content *c, const char *text, size_t len)
{
    for (;;) {
        const char *nl = memchr(text, '\n', len);
        size_t  line = nl ? (size_t) (nl - text) : len;

        put_piece(c, text, line, 1);
        end_line(c);
        if (nl == NULL)
            break;
        text += line + 1;
        len -= line + 1;
    }
}

static void rewrite_item(header_addr *item, void *context)
{
    (void) context;
    smtp_generic_rewrite(item->address);
}

static void generic_header(content *c)
{
    size_t  name_len;
    size_t  value_start;
    const header_info *info;
    header_addr_list *list;
    strbuf *out;

    if (smtp_cfg.generic_maps == NULL
        || !header_parse_name(c->header->data, c->header->len, &name_len, &value_start)
        || (info = header_info_find(c->header->data, name_len)) == NULL
        || !(info->flags & HEADER_F_ADDRESS))
        return;
    list = header_addr_parse(c->header->data + value_start, c->header->len - value_start,
                             (size_t) var_header_address_token_limit);
    header_addr_rewrite(list, rewrite_item, NULL);
    out = strbuf_new(c->header->len + 32);
    strbuf_append(out, c->header->data, value_start);
    header_addr_render(out, list);
    strbuf_set_mem(c->header, out->data, out->len);
    strbuf_free(out);
    header_addr_list_free(list);
}

static void log_action(content *c, const char *action, const char *text)
{
    strbuf *line = strbuf_new(128);

    strbuf_printf(line, "%s: %s: header ", c->d->req->queue_id, action);
    sanitize_printable(line, c->header->data, c->header->len < 200 ? c->header->len : 200);
    strbuf_append_printf(line, " from %s", c->session->host);
    if (text && *text) {
        strbuf_append_str(line, ": ");
        sanitize_printable(line, text, strlen(text));
    }
    msg_info("%s", line->data);
    strbuf_free(line);
}

/* smtp_header_checks; 0 keep, 1 drop, -1 the table failed. */
static int check_header(content *c)
{
    strbuf *key;
    const char *value;
    const char *arg;
    size_t  word;
    int     status;

    if (smtp_cfg.header_checks == NULL)
        return 0;
    key = strbuf_new(c->header->len + 1);
    header_unfold(key, c->header->data, c->header->len);
    status = maps_find(smtp_cfg.header_checks, key->data, 0, &value);
    strbuf_free(key);
    if (status == MAP_ERROR) {
        strbuf_printf(c->why, "smtp_header_checks lookup error: %s",
                      maps_error(smtp_cfg.header_checks));
        return -1;
    }
    if (status != MAP_OK)
        return 0;
    word = strcspn(value, " \t");
    for (arg = value + word; isspace((unsigned char) *arg); arg++)
        continue;
    if (word == 6 && strncasecmp(value, "IGNORE", 6) == 0) {
        return 1;
    } else if (word == 7 && strncasecmp(value, "REPLACE", 7) == 0 && *arg) {
        log_action(c, "replace", arg);
        strbuf_set(c->header, arg);
    } else if (word == 7 && strncasecmp(value, "PREPEND", 7) == 0 && *arg) {
        log_action(c, "prepend", arg);
        put_header(c, arg, strlen(arg));
    } else if ((word == 4 && strncasecmp(value, "WARN", 4) == 0)
               || (word == 4 && strncasecmp(value, "INFO", 4) == 0)) {
        log_action(c, word == 4 && (value[0] | 32) == 'w' ? "warning" : "info", arg);
    } else if (!((word == 5 && strncasecmp(value, "DUNNO", 5) == 0)
                 || (word == 2 && strncasecmp(value, "OK", 2) == 0))) {
        msg_warn("%s: smtp_header_checks: unsupported action: %.*s",
                 c->d->req->queue_id, (int) (word < 40 ? word : 40), value);
    }
    return 0;
}

static int flush_header(content *c)
{
    int     verdict;

    if (c->header->len == 0)
        return 0;
    if ((verdict = check_header(c)) < 0)
        return -1;
    if (verdict == 0) {
        generic_header(c);
        put_header(c, c->header->data, c->header->len);
    }
    strbuf_reset(c->header);
    return 0;
}

/* One complete physical line while in the header block. */
static int header_line(content *c, const strbuf *line)
{
    size_t  name_len;
    size_t  value_start;

    if (line->len && (line->data[0] == ' ' || line->data[0] == '\t') && c->header->len
        && c->header->len + line->len < c->header_limit) {
        strbuf_append_char(c->header, '\n');
        strbuf_append(c->header, line->data, line->len);
        return 0;
    }
    if (flush_header(c) < 0)
        return -1;
    if (line->len && line->len < c->header_limit
        && header_parse_name(line->data, line->len, &name_len, &value_start)) {
        strbuf_set_mem(c->header, line->data, line->len);
        return 0;
    }
    c->in_header = 0;
    put_piece(c, line->data, line->len, 0);
    end_line(c);
    return 0;
}

static size_t header_limit(void)
{
    strbuf *value = strbuf_new(16);
    long    limit = 0;

    if (config_eval("header_size_limit", value) == 0 && value->len)
        limit = strtol(value->data, NULL, 10);
    strbuf_free(value);
    return limit > 0 ? (size_t) limit : SMTP_HEADER_SIZE_DEFAULT;
}

int smtp_send_content(smtp_session *session, delivery *d, strbuf *why)
{
    content c = {.session = session,.d = d,.out = session->stream,.in_header = 1,
        .header = strbuf_new(256),.header_limit = header_limit(),.why = why };
    queue_envelope env;
    strbuf *data = strbuf_new(256);
    strbuf *line = strbuf_new(256);
    int     type;
    int     rc = 0;

    memset(&env, 0, sizeof(env));
    env.sizes.content_offset = d->req->data_offset;
    stream_set_timeout(session->stream, smtp_cfg.data_xfer_timeout);
    if (queue_content_start(d->qf->stream, &env) < 0)
        type = REC_BAD_TYPE;
    else
        while (rc == 0 && ((type = queue_content_next(d->qf->stream, data)) == REC_TYPE_LINE
                           || type == REC_TYPE_PARTIAL)) {
            if (c.in_header && (line->len + data->len < c.header_limit)) {
                strbuf_append(line, data->data, data->len);
                if (type == REC_TYPE_LINE) {
                    rc = header_line(&c, line);
                    strbuf_reset(line);
                }
                continue;
            }
            if (c.in_header) {
                rc = flush_header(&c);
                put_piece(&c, line->data, line->len, 0);
                strbuf_reset(line);
                c.in_header = 0;
            }
            put_piece(&c, data->data, data->len, 0);
            if (type == REC_TYPE_LINE)
                end_line(&c);
            if (stream_status(c.out))
                rc = -1;
        }
    if (rc == 0 && c.in_header)
        rc = flush_header(&c);
    if (rc == 0 && type != REC_TYPE_EXTRACTED) {
        strbuf_set(why, "error reading message: queue file damaged");
        rc = -1;
    }
    if (rc == 0 && stream_status(c.out))
        rc = -1;
    strbuf_free(data);
    strbuf_free(line);
    strbuf_free(c.header);
    return rc;
}

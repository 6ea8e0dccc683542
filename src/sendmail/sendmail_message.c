/*
 * sendmail_message - read a message on standard input (sendmail -bm).
 *
 * sendmail_read_message(p, ignore_dots, check_extract) copies standard
 * input to postdrop as content records, until end of file or, unless
 * ignore_dots (-i, -oi), a line holding a lone ".". A first line starting
 * with "From " (a UNIX mailbox separator) is dropped, as Postfix's
 * sendmail does. Line endings follow
 * sendmail_fix_line_endings: "always" (the default) takes CR LF as LF,
 * "strict" does so only when the first line ends in CR LF, "never" keeps
 * the CR. A line longer than line_length_limit is sent in pieces (C
 * records), so memory stays bounded whatever the input.
 *
 * With check_extract ("sendmail -t" and no recipient arguments) the
 * headers are watched: if they end without a To:, Cc: or Bcc: (or their
 * Resent- forms) holding an address, postdrop is stopped (its file goes
 * away) and sendmail fails, "No recipient addresses found in message
 * header", as Postfix's sendmail does. Only header_size_limit bytes of
 * each header are looked at.
 */
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "header_addr.h"
#include "header_info.h"
#include "mail_params.h"
#include "record.h"
#include "sendmail.h"

typedef struct rcpt_watch {
    int     active;                     /* still in the headers, nothing found yet */
    int     found;
    strbuf *header;                     /* the logical header being read */
} rcpt_watch;

/* Does the complete logical header in the watch name a recipient? */
static void watch_header_done(rcpt_watch *w)
{
    size_t  name_len;
    size_t  value_start;
    const header_info *info;
    header_addr_list *list;

    if (w->header->len == 0
        || header_parse_name(w->header->data, w->header->len, &name_len, &value_start) != 1)
        return;
    info = header_info_find(w->header->data, name_len);
    if (info && (info->flags & HEADER_F_RECIPIENT)) {
        list = header_addr_parse(w->header->data + value_start, w->header->len - value_start,
                                 (size_t) var_header_address_token_limit);
        for (size_t i = 0; i < list->count && !w->found; i++)
            w->found = list->items[i].parsed->len > 0;
        header_addr_list_free(list);
    }
    strbuf_reset(w->header);
}

static void watch_append(rcpt_watch *w, const char *data, size_t len)
{
    size_t  room = (size_t) var_header_size_limit > w->header->len ?
        (size_t) var_header_size_limit - w->header->len : 0;

    strbuf_append(w->header, data, len < room ? len : room);
}

/* One complete line (or the first piece of a long one) in the headers. */
static void watch_line(rcpt_watch *w, const char *line, size_t len, int line_start)
{
    size_t  name_len;
    size_t  value_start;

    if (!w->active)
        return;
    if (!line_start) {
        watch_append(w, line, len);
    } else if (len > 0 && (line[0] == ' ' || line[0] == '\t') && w->header->len) {
        watch_append(w, "\n", 1);
        watch_append(w, line, len);
    } else {
        watch_header_done(w);
        if (len == 0 || header_parse_name(line, len, &name_len, &value_start) != 1)
            w->active = 0;
        else
            watch_append(w, line, len);
    }
    if (w->found)
        w->active = 0;
}

static void strip_cr(int *mode, int first_line, strbuf *line)
{
    int     has_cr = line->len && line->data[line->len - 1] == '\r';

    if (*mode == 's' && first_line)
        *mode = has_cr ? 'a' : 'n';
    if (*mode == 'a' && has_cr)
        strbuf_truncate(line, line->len - 1);
}

static int fix_mode(void)
{
    if (strcasecmp(var_sendmail_fix_line_endings, "never") == 0)
        return 'n';
    if (strcasecmp(var_sendmail_fix_line_endings, "strict") == 0)
        return 's';
    return 'a';
}

static void check_found(postdrop_pipe *p, rcpt_watch *w, int check_extract)
{
    if (!check_extract || w->found)
        return;
    postdrop_abort(p);
    sendmail_fatal(EX_TEMPFAIL, "No recipient addresses found in message header");
}

void    sendmail_read_message(postdrop_pipe *p, int ignore_dots, int check_extract)
{
    stream *in = stream_open_fd(0, 0);
    strbuf *line = strbuf_new(1024);
    rcpt_watch watch = {.active = check_extract,.header = strbuf_new(256) };
    int     line_start = 1;
    int     first_line = 1;
    int     mode = fix_mode();
    enum stream_line got;

    while ((got = stream_get_line(in, line, (size_t) var_line_length_limit)) != STREAM_LINE_NONE) {
        if (got == STREAM_LINE_TOO_LONG) {
            watch_line(&watch, line->data, line->len, line_start);
            postdrop_content(p, REC_TYPE_PARTIAL, line->data, line->len);
            line_start = 0;
            continue;
        }
        if (got == STREAM_LINE_COMPLETE)
            strbuf_truncate(line, line->len - 1);
        strip_cr(&mode, first_line, line);
        if (first_line && line_start && line->len >= 5 && memcmp(line->data, "From ", 5) == 0) {
            first_line = 0;
            continue;                   /* a UNIX mailbox "From " line */
        }
        first_line = 0;
        if (line_start && !ignore_dots && line->len == 1 && line->data[0] == '.')
            break;
        watch_line(&watch, line->data, line->len, line_start);
        if (check_extract && !watch.active)
            check_found(p, &watch, check_extract);
        postdrop_content(p, REC_TYPE_LINE, line->data, line->len);
        line_start = 1;
        if (got == STREAM_LINE_LAST)
            break;
    }
    if (watch.active)
        watch_header_done(&watch);
    check_found(p, &watch, check_extract);
    stream_release(in);
    strbuf_free(line);
    strbuf_free(watch.header);
}

/*
 * smtp_data - message content as an SMTP server receives it. See smtp_data.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "record.h"
#include "smtp_data.h"

smtp_data *smtp_data_new(int mode, int bare_lf_mode, size_t line_limit, int at_line_start,
                         smtp_data_output output, void *context)
{
    smtp_data *d = xcalloc(1, sizeof(*d));

    d->mode = mode;
    d->bare_lf_mode = bare_lf_mode;
    d->line_limit = line_limit < 2 ? 2 : line_limit;
    d->line = strbuf_new(256);
    d->line_fresh = 1;
    d->prev_crlf = at_line_start;
    d->output = output;
    d->context = context;
    return d;
}

void smtp_data_free(smtp_data *d)
{
    strbuf_free(d->line);
    free(d);
}

/* Maps a smtpd_forbid_bare_newline value; -1 when it is not one. */
int smtp_bare_lf_mode(const char *name)
{
    if (strcasecmp(name, "normalize") == 0 || strcasecmp(name, "yes") == 0)
        return SMTP_BARE_LF_NORMALIZE;
    if (strcasecmp(name, "reject") == 0)
        return SMTP_BARE_LF_REJECT;
    if (strcasecmp(name, "no") == 0)
        return SMTP_BARE_LF_ACCEPT;
    return -1;
}

/* Emits the current line (or piece) and empties it, undoing dot-stuffing. */
static void emit(smtp_data *d, int type)
{
    const char *text = d->line->data;
    size_t  len = d->line->len;

    if (d->mode == SMTP_DATA_DOT && d->line_fresh && len >= 2 && text[0] == '.') {
        text++;
        len--;
    }
    d->output(d->context, type, text, len);
    strbuf_reset(d->line);
    d->line_fresh = (type == REC_TYPE_LINE);
    if (type == REC_TYPE_LINE)
        d->lines++;
}

static void append(smtp_data *d, int ch)
{
    strbuf_append_char(d->line, ch);
    if (d->line->len >= d->line_limit)
        emit(d, REC_TYPE_PARTIAL);
}

/* Is the line that just ended the end-of-data mark? */
static int end_of_data(const smtp_data *d, int crlf)
{
    if (d->mode != SMTP_DATA_DOT || !d->line_fresh || d->line->len != 1
        || d->line->data[0] != '.')
        return 0;
    if (d->bare_lf_mode == SMTP_BARE_LF_ACCEPT)
        return 1;
    return crlf && d->prev_crlf;
}

/* A LF arrived: the line ends, or the data does. */
static void line_end(smtp_data *d)
{
    int     crlf = d->pending_cr;

    d->pending_cr = 0;
    if (end_of_data(d, crlf)) {
        d->done = 1;
        strbuf_reset(d->line);
        return;
    }
    if (!crlf)
        d->bare_lf++;
    emit(d, REC_TYPE_LINE);
    d->prev_crlf = crlf || d->bare_lf_mode == SMTP_BARE_LF_ACCEPT;
}

/* Appends plain content bytes (no CR, no LF) in bulk; returns how many. */
static size_t append_run(smtp_data *d, const char *data, size_t len)
{
    size_t  run = 0;

    while (run < len && data[run] != '\r' && data[run] != '\n')
        run++;
    for (size_t done = 0; done < run;) {
        size_t  room = d->line_limit - d->line->len;
        size_t  take = run - done < room ? run - done : room;

        strbuf_append(d->line, data + done, take);
        done += take;
        if (d->line->len >= d->line_limit)
            emit(d, REC_TYPE_PARTIAL);
    }
    return run;
}

size_t smtp_data_feed(smtp_data *d, const char *data, size_t len)
{
    size_t  used = 0;

    while (used < len && !d->done) {
        int     ch;

        if (!d->pending_cr && (ch = (unsigned char) data[used]) != '\r' && ch != '\n') {
            used += append_run(d, data + used, len - used);
            continue;
        }
        ch = (unsigned char) data[used++];
        if (ch == '\n') {
            line_end(d);
            continue;
        }
        if (d->pending_cr) {
            d->pending_cr = 0;
            append(d, '\r');
        }
        if (ch == '\r')
            d->pending_cr = 1;
        else
            append(d, ch);
    }
    d->bytes += used;
    return used;
}

void smtp_data_finish(smtp_data *d)
{
    if (d->done)
        return;
    if (d->pending_cr) {
        d->pending_cr = 0;
        append(d, '\r');
    }
    if (d->line->len > 0 || !d->line_fresh)
        emit(d, REC_TYPE_LINE);
    d->done = 1;
}

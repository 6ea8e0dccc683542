/*
 * libFuzzer target: the DATA/BDAT content machine (smtp_data).
 *
 * Input: byte 0 picks the mode (bit 0: BDAT raw mode, bits 1-2: bare LF
 * mode), byte 1 the line limit (2-257), byte 2 the size of the pieces the
 * rest is fed in. Checked: feeding in pieces gives exactly the records and
 * the end point of feeding all at once; no record is longer than the
 * limit or holds a LF; a DATA end happens only right after "\r\n.\r\n"
 * (or, in the "no" mode, a "." line ending in LF or CR LF) and never in raw
 * mode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "smtp_data.h"

typedef struct sink {
    strbuf *records;
    size_t  limit;
} sink;

static void collect(void *context, int type, const char *data, size_t len)
{
    sink   *s = context;

    if (len > s->limit || memchr(data, '\n', len)
        || (type != REC_TYPE_LINE && type != REC_TYPE_PARTIAL))
        abort();
    strbuf_append_printf(s->records, "%c%zu:", type, len);
    strbuf_append(s->records, data, len);
}

static size_t feed(int mode, int bare_lf, size_t limit, const char *text, size_t len,
                   size_t piece, strbuf *records, int *done)
{
    sink    s = {records, limit};
    smtp_data *d = smtp_data_new(mode, bare_lf, limit, 1, collect, &s);
    size_t  used = 0;

    while (used < len && !d->done) {
        size_t  want = len - used < piece ? len - used : piece;

        used += smtp_data_feed(d, text + used, want);
    }
    if (mode == SMTP_DATA_RAW) {
        if (d->done)
            abort();
        smtp_data_finish(d);
    }
    if (d->bytes != used)
        abort();
    *done = d->done;
    smtp_data_free(d);
    return used;
}

static void check_end(int mode, int bare_lf, const char *text, size_t used, int done)
{
    if (!done || mode == SMTP_DATA_RAW)
        return;
    if (bare_lf == SMTP_BARE_LF_ACCEPT) {
        size_t  dot = used >= 3 && text[used - 2] == '\r' ? used - 3 : used - 2;

        if (used < 2 || text[used - 1] != '\n' || text[dot] != '.'
            || (dot > 0 && text[dot - 1] != '\n'))
            abort();
    } else if (used < 3 || memcmp(text + used - 3, ".\r\n", 3) != 0
               || (used > 3 && (used < 5 || memcmp(text + used - 5, "\r\n", 2) != 0))) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int     mode;
    int     bare_lf;
    size_t  limit;
    size_t  piece;
    strbuf *whole;
    strbuf *pieces;
    int     done_whole;
    int     done_pieces;
    size_t  used_whole;
    const char *text = (const char *) data + 3;
    size_t  len = size - 3;

    if (size < 3)
        return 0;
    mode = (data[0] & 1) ? SMTP_DATA_RAW : SMTP_DATA_DOT;
    bare_lf = ((data[0] >> 1) & 3) % 3;
    limit = 2 + data[1];
    piece = 1 + data[2];
    whole = strbuf_new(0);
    pieces = strbuf_new(0);
    used_whole = feed(mode, bare_lf, limit, text, len, len ? len : 1, whole, &done_whole);
    if (feed(mode, bare_lf, limit, text, len, piece, pieces, &done_pieces) != used_whole
        || done_whole != done_pieces || whole->len != pieces->len
        || memcmp(whole->data, pieces->data, whole->len) != 0)
        abort();
    check_end(mode, bare_lf, text, used_whole, done_whole);
    strbuf_free(whole);
    strbuf_free(pieces);
    return 0;
}

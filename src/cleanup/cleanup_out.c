/*
 * cleanup_out - writing the queue file.
 *
 * cleanup_out_start() writes the records every queue file begins with: a
 * placeholder V (rewritten by cleanup_out_sizes() once the sizes are
 * known), T (the arrival time) and W (no delay warning yet).
 * cleanup_out_record() writes one envelope or structure record.
 * cleanup_out_content() writes one content record (L or C) when content is
 * still wanted (cleanup_output_ok) and counts it in the message size;
 * cleanup_out_text() writes text that may span several lines (a header with
 * its continuation lines) as L records, each line cut into C pieces of at
 * most line_length_limit bytes. cleanup_out_offset() is the offset the next
 * record gets. Write errors are sticky in the stream and reported by
 * cleanup_out_sizes() (and the commit) as CLEANUP_STAT_WRITE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "mail_params.h"
#include "msg.h"
#include "record.h"

void    cleanup_out_start(cleanup_state *state)
{
    static const queue_sizes zero;

    if (state->started || state->qf == NULL)
        return;
    state->started = 1;
    queue_put_sizes(state->qf->stream, &zero);
    rec_printf(state->qf->stream, REC_TYPE_TIME, "%ld.%06ld", (long) state->arrival.tv_sec,
               (long) state->arrival.tv_usec);
    rec_printf(state->qf->stream, REC_TYPE_WARN, "%15ld", 0L);
}

void    cleanup_out_record(cleanup_state *state, int type, const void *data, size_t len)
{
    if (state->qf)
        rec_put(state->qf->stream, type, data, len);
}

void    cleanup_out_content(cleanup_state *state, int type, const void *data, size_t len)
{
    if (!cleanup_output_ok(state))
        return;
    rec_put(state->qf->stream, type, data, len);
    state->sizes.message_size += (long) len + (type == REC_TYPE_LINE);
    for (size_t i = 0; i < len && !state->eight_bit; i++)
        if (((const unsigned char *) data)[i] & 0x80)
            state->eight_bit = 1;
}

/* One physical line, cut into pieces of at most line_length_limit bytes. */
static void out_line(cleanup_state *state, const char *line, size_t len)
{
    size_t  piece = (size_t) var_line_length_limit;

    while (len > piece) {
        cleanup_out_content(state, REC_TYPE_PARTIAL, line, piece);
        line += piece;
        len -= piece;
    }
    cleanup_out_content(state, REC_TYPE_LINE, line, len);
}

void    cleanup_out_text(cleanup_state *state, const char *text, size_t len)
{
    const char *end = text + len;

    for (;;) {
        const char *newline = memchr(text, '\n', (size_t) (end - text));

        if (newline == NULL) {
            out_line(state, text, (size_t) (end - text));
            return;
        }
        out_line(state, text, (size_t) (newline - text));
        text = newline + 1;
    }
}

off_t   cleanup_out_offset(const cleanup_state *state)
{
    return state->qf ? stream_tell(state->qf->stream) : 0;
}

int     cleanup_out_sizes(cleanup_state *state)
{
    stream *s = state->qf->stream;

    const char *trace_flags = cleanup_attr(state, "trace_flags");

    state->sizes.recipient_count = (long) state->rcpt_count;
    state->sizes.flags = 0;
    if (state->flags & CLEANUP_FLAG_LOCAL)
        state->sizes.flags |= QUEUE_FLAG_LOCAL_SUBMIT;
    if (state->eight_bit)
        state->sizes.flags |= QUEUE_FLAG_8BIT;
    if (trace_flags && (strtol(trace_flags, NULL, 10) & 1))
        state->sizes.flags |= QUEUE_FLAG_DSN;
    if (stream_flush(s) < 0 || stream_seek(s, 0, SEEK_SET) < 0
        || queue_put_sizes(s, &state->sizes) < 0 || stream_flush(s) < 0
        || stream_seek(s, 0, SEEK_END) < 0) {
        msg_warn("%s: write queue file: %s", state->queue_id, strerror(errno));
        cleanup_error(state, CLEANUP_STAT_WRITE, "4.3.0 queue file write error");
        return -1;
    }
    return 0;
}

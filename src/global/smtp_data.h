/*
 * smtp_data - message content as an SMTP server receives it: line ends,
 * dot-stuffing and the end-of-data mark of DATA, and the byte stream of
 * BDAT chunks, turned into queue file content records.
 *
 *   smtp_data *d = smtp_data_new(SMTP_DATA_DOT, SMTP_BARE_LF_NORMALIZE,
 *                                line_limit, 1, output, context);
 *   while (!d->done)
 *       used = smtp_data_feed(d, bytes, len);    (consumes up to the mark)
 *   smtp_data_free(d);
 *
 * The machine takes bytes in pieces of any size and calls output(context,
 * type, data, len) once per record: REC_TYPE_LINE for a whole line (or the
 * last piece of a long one) without its line terminator, REC_TYPE_PARTIAL
 * for a piece of a line that reached `line_limit` bytes (the line goes on in
 * the next record). Memory stays bounded by line_limit whatever the peer
 * sends.
 *
 * Line ends: CR LF ends a line. A bare LF (not preceded by CR) also ends a
 * line and is counted in d->bare_lf; whether it matters is the mode's
 * business:
 *
 *   SMTP_BARE_LF_NORMALIZE  only <CR><LF>.<CR><LF> ends DATA: the "." line
 *                           must end in CR LF and follow a line that did.
 *                           Bare LF ends other lines as if it were CR LF.
 *   SMTP_BARE_LF_REJECT     as NORMALIZE; the caller rejects the message
 *                           when d->bare_lf is non-zero.
 *   SMTP_BARE_LF_ACCEPT     "no": any line "." ends DATA, however it and the
 *                           line before it ended (Postfix before 3.9;
 *                           vulnerable to SMTP smuggling).
 *
 * A CR not followed by LF is content. In SMTP_DATA_DOT mode a line that
 * starts with "." loses that dot (RFC 5321 section 4.5.2), except a lone
 * "." that does not end DATA: it stays "." so a smuggled end mark is kept
 * as evidence, never turned into anything else. SMTP_DATA_RAW (BDAT) has
 * neither dots nor an end mark: the caller feeds each chunk and calls
 * smtp_data_finish() after the LAST one, which emits an unterminated last
 * line.
 *
 * `at_line_start` (the fourth argument of smtp_data_new) says whether the
 * command line before DATA ended in CR LF; a client that sent "DATA\n"
 * cannot end DATA with an immediate ".\r\n" in NORMALIZE mode.
 *
 * smtp_data_feed() returns how many bytes it used: all of them, or fewer
 * when the end-of-data mark was reached (d->done is then set and the rest
 * belongs to the next command). d->bytes counts every byte used.
 */
#ifndef POSTERN_SMTP_DATA_H
#define POSTERN_SMTP_DATA_H

#include <stddef.h>

#include "strbuf.h"

enum smtp_data_mode { SMTP_DATA_DOT, SMTP_DATA_RAW };
enum smtp_bare_lf { SMTP_BARE_LF_NORMALIZE, SMTP_BARE_LF_REJECT, SMTP_BARE_LF_ACCEPT };

typedef void (*smtp_data_output)(void *context, int type, const char *data, size_t len);

typedef struct smtp_data {
    int     mode;                       /* SMTP_DATA_DOT or SMTP_DATA_RAW */
    int     bare_lf_mode;               /* SMTP_BARE_LF_* */
    size_t  line_limit;
    strbuf *line;                       /* the current line, not yet emitted */
    int     line_fresh;                 /* no piece of this line emitted yet */
    int     pending_cr;                 /* a CR that may start CR LF */
    int     prev_crlf;                  /* the previous line ended in CR LF */
    int     done;                       /* end-of-data mark seen */
    long    bare_lf;                    /* lines that ended in a bare LF */
    long    lines;                      /* records emitted as whole lines */
    unsigned long long bytes;           /* bytes consumed */
    smtp_data_output output;
    void   *context;
} smtp_data;

smtp_data *smtp_data_new(int mode, int bare_lf_mode, size_t line_limit, int at_line_start,
                         smtp_data_output output, void *context);
size_t  smtp_data_feed(smtp_data *d, const char *data, size_t len);
void    smtp_data_finish(smtp_data *d);
void    smtp_data_free(smtp_data *d);
int     smtp_bare_lf_mode(const char *name);

#endif

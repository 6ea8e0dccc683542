/*
 * smtp_reply - read one SMTP or LMTP server reply, treating every byte as
 * hostile (ATTACKS.md, "hostile server replies").
 *
 *   smtp_reply *r = smtp_reply_new();
 *   switch (smtp_reply_read(stream, r, var_line_length_limit)) {
 *   case SMTP_REPLY_OK:   r->code, r->dsn, r->text, r->lines
 *   case SMTP_REPLY_BAD:  malformed or endless reply: r->text says why
 *   case SMTP_REPLY_IO:   EOF, error or timeout (stream_status() tells)
 *   }
 *   smtp_reply_free(r);
 *
 * A reply is one or more lines "NNN-text" ending with a line "NNN text"
 * (or "NNN" alone), RFC 5321 section 4.2. The first line's code counts.
 * Every line is read with stream_get_line() bounded by `line_limit`
 * bytes; the rest of an overlong line is read and thrown away. The reply
 * text keeps at most `line_limit` (and at most SMTP_REPLY_TEXT_MAX) bytes
 * over all lines, the size a status log keeps (DSN_TEXT_MAX); a reply of more
 * than SMTP_REPLY_LINES_MAX lines is given up as SMTP_REPLY_BAD, so a server
 * that never sends the last line cannot hold the client beyond the stream's
 * timeout per line and this count.
 *
 * Sanitizing: r->text is the lines as sent ("550-5.1.1 first 550 5.1.1
 * second"), joined by one space, with every byte outside printable ASCII
 * (CR, LF, NUL, controls, 8-bit) replaced by '?', so it can go into a log
 * line, a status log or a notification unchanged. r->lines holds each
 * line's text after the code (sanitized the same way), for EHLO keywords.
 * r->dsn is the enhanced status code (RFC 3463) at the start of the first
 * line's text when its class matches the reply code, else "X.0.0" made
 * from the code's first digit.
 *
 * smtp_reply_parse() does the same on a buffer (tests, fuzzing).
 * Memory: the reply owns its strbufs and argv; nothing here logs.
 */
#ifndef POSTERN_SMTP_REPLY_H
#define POSTERN_SMTP_REPLY_H

#include <stddef.h>

#include "argv.h"
#include "stream.h"
#include "strbuf.h"

#define SMTP_REPLY_LINES_MAX  1000
#define SMTP_REPLY_DSN_MAX    16
#define SMTP_REPLY_TEXT_MAX   1000

enum smtp_reply_status { SMTP_REPLY_OK = 0, SMTP_REPLY_BAD = -1, SMTP_REPLY_IO = -2 };

typedef struct smtp_reply {
    int     code;                       /* 100..599 */
    char    dsn[SMTP_REPLY_DSN_MAX];    /* "5.1.1" */
    strbuf *text;                       /* whole reply, sanitized, bounded */
    argv_t *lines;                      /* text after each code, sanitized */
    strbuf *line;                       /* scratch */
} smtp_reply;

smtp_reply *smtp_reply_new(void);
void    smtp_reply_free(smtp_reply *r);
int     smtp_reply_read(stream *s, smtp_reply *r, size_t line_limit);
int     smtp_reply_parse(const char *data, size_t len, smtp_reply *r, size_t line_limit);
int     smtp_reply_dsn_extract(const char *text, size_t len, int code, char *dsn);

#endif

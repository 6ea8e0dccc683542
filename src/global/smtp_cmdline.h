/*
 * smtp_cmdline - one SMTP command line as a server reads it, split into a
 * verb and its arguments, and the small argument grammars smtpd checks
 * itself (BDAT, the HELO and ETRN names).
 *
 * smtp_cmdline_set(cmd, line, len, complete) takes the bytes of one line as
 * read (`complete`: they end in LF; otherwise the line was cut at the
 * reader's limit or the input ended) and fills cmd:
 *
 *   text      the command without its line terminator, cut at the first
 *             NUL byte (what follows a NUL is never interpreted, as in
 *             Postfix)
 *   flags     SMTP_CMDLINE_BARE_LF  the line ended in LF without CR
 *             SMTP_CMDLINE_CUT      no line end: cut at the reader's limit
 *             SMTP_CMDLINE_NUL      a NUL byte was cut off
 *             SMTP_CMDLINE_CONTROL  the text holds a control character
 *                                   other than HTAB (a stray CR, ESC, ...)
 *             SMTP_CMDLINE_8BIT     the text holds bytes above 0x7F
 *             SMTP_CMDLINE_BAD_UTF8 ... that are not well-formed UTF-8
 *   verb      text[0, verb_len): up to the first SP or HTAB
 *   args      offset of the arguments: after the verb and the SP/HTAB run
 *
 * smtp_cmdline_verb_is(cmd, "MAIL") compares the verb without regard to
 * case. smtp_cmdline_words() counts SP/HTAB separated words.
 * smtp_cmdline_header_like() is 1 when the line starts like a message
 * header ("Subject: ...", "From:x"): a name of printable characters other
 * than ':' (and no space), then ':'. Such a command means a client that
 * lost track of the dialogue, or a proxy or HTTP probe.
 *
 * smtp_bdat_args(text, len, &size, &last) parses "count [LAST]" (count
 * digits only, at most SMTP_BDAT_MAX_DIGITS, LAST in any case): 0 or -1.
 * smtp_escape(out, data, len, limit) appends at most `limit` bytes of data
 * with CR, LF, HTAB and backslash written as \r \n \t \\ and other bytes
 * outside printable ASCII as \ooo, for log lines that show raw input.
 *
 * Memory: smtp_cmdline_new() allocates; smtp_cmdline_free() frees. Nothing
 * here logs.
 */
#ifndef POSTERN_SMTP_CMDLINE_H
#define POSTERN_SMTP_CMDLINE_H

#include <stddef.h>

#include "strbuf.h"

#define SMTP_CMDLINE_BARE_LF   (1 << 0)
#define SMTP_CMDLINE_CUT       (1 << 1)
#define SMTP_CMDLINE_NUL       (1 << 2)
#define SMTP_CMDLINE_CONTROL   (1 << 3)
#define SMTP_CMDLINE_8BIT      (1 << 4)
#define SMTP_CMDLINE_BAD_UTF8  (1 << 5)

#define SMTP_BDAT_MAX_DIGITS   18

typedef struct smtp_cmdline {
    strbuf *text;
    int     flags;
    size_t  verb_len;
    size_t  args;
} smtp_cmdline;

smtp_cmdline *smtp_cmdline_new(void);
void    smtp_cmdline_free(smtp_cmdline *cmd);
void    smtp_cmdline_set(smtp_cmdline *cmd, const char *line, size_t len, int complete);
int     smtp_cmdline_verb_is(const smtp_cmdline *cmd, const char *verb);
int     smtp_cmdline_words(const smtp_cmdline *cmd);
int     smtp_cmdline_header_like(const smtp_cmdline *cmd);
int     smtp_bdat_args(const char *text, size_t len, unsigned long long *size, int *last);
void    smtp_escape(strbuf *out, const char *data, size_t len, size_t limit);

#endif

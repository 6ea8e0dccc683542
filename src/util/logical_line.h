/*
 * logical_line - Postfix-style logical lines from configuration text.
 *
 * A line that starts with white space continues the previous logical line;
 * blank lines and lines whose first non-blank character is '#' are skipped,
 * also between a line and its continuation. By default (main.cf, master.cf)
 * a continuation is joined with one space, its leading white space dropped,
 * and trailing white space is removed. With LOGICAL_LINE_KEEP_SPACE (lookup
 * table sources) only the newline is dropped and all white space is kept:
 * "a\n  b" becomes "a  b".
 *
 * logical_line_next() fills `line` with the next logical line and returns
 * its first physical line number, or 0 at the end of the text. A
 * continuation with nothing to continue is returned on its own with
 * *orphan set, so the caller decides whether that is a warning or an error.
 *
 * fd_read_text() reads from a descriptor to its end into a strbuf, refusing
 * NUL bytes (`name` labels errors). file_read_text() opens a path, refuses
 * anything but a regular file (never blocking on a FIFO or reading a device
 * forever), then reads it the same way.
 */
#ifndef POSTERN_LOGICAL_LINE_H
#define POSTERN_LOGICAL_LINE_H

#include "strbuf.h"

#define LOGICAL_LINE_KEEP_SPACE  (1 << 0)

typedef struct logical_cursor {
    const char *next;
    int     line;                       /* physical lines consumed */
    int     flags;
} logical_cursor;

void logical_line_start(logical_cursor *cursor, const char *text, int flags);
int  logical_line_next(logical_cursor *cursor, strbuf *line, int *orphan);
int  fd_read_text(int fd, const char *name, strbuf *text, strbuf *error);
int  file_read_text(const char *path, strbuf *text, strbuf *error);

#endif

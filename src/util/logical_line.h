/*
 * logical_line - Postfix-style logical lines from configuration text.
 *
 * A line that starts with white space continues the previous logical line
 * (joined with one space, its leading white space dropped); blank lines and
 * lines whose first non-blank character is '#' are skipped, also between a
 * line and its continuation. Trailing white space is removed.
 *
 * logical_line_next() fills `line` with the next logical line and returns
 * its first physical line number, or 0 at the end of the text. A
 * continuation with nothing to continue is returned on its own with
 * *orphan set, so the caller decides whether that is a warning or an error.
 *
 * file_read_text() reads a whole file (refusing NUL bytes) into a strbuf.
 */
#ifndef POSTERN_LOGICAL_LINE_H
#define POSTERN_LOGICAL_LINE_H

#include "strbuf.h"

typedef struct logical_cursor {
    const char *next;
    int     line;                       /* physical lines consumed */
} logical_cursor;

void logical_line_start(logical_cursor *cursor, const char *text);
int  logical_line_next(logical_cursor *cursor, strbuf *line, int *orphan);
int  file_read_text(const char *path, strbuf *text, strbuf *error);

#endif

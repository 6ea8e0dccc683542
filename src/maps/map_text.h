/*
 * map_text - reading the text forms of lookup tables.
 *
 * Logical lines as Postfix table sources define them: blank lines and lines
 * whose first non-blank character is '#' are skipped; a line that starts
 * with white space continues the previous line: its newline is dropped and
 * all white space is kept ("a\n  b" becomes "a  b"). map_text_next() fills
 * `line` and returns the number of its first physical line, 0 at the end;
 * a continuation with nothing before it comes back alone with *orphan set.
 *
 * map_text_entry() splits a postmap source line "key whitespace value".
 * A key may hold white space inside double quotes (backslash quotes the
 * next character there); the quotes stay part of the key, as in Postfix.
 * The value has surrounding white space removed. Returns MAP_TEXT_OK,
 * MAP_TEXT_ALIAS_FORM (ok, but the key ends in ':' - a likely mistake the
 * caller warns about) or MAP_TEXT_BAD with the reason in `why`. Key and
 * value point into `line`, which is modified.
 *
 * map_split_list() splits a list such as a parameter value ("hash:/a,
 * inline:{ a=b, c=d } regexp:/b") at commas and white space, keeping text
 * inside {} together; unbalanced braces fail with a reason.
 * map_unbrace() returns the inside of "{ text }", trimmed, or -1 when the
 * item is not enclosed in braces.
 *
 * map_read_fd() reads a whole file from a descriptor into `text`, refusing
 * NUL bytes (the reason names the file). map_open_regular() opens a file
 * for reading only if it is a regular file (never waiting on a FIFO or
 * reading a device forever); -1 with "open FILE: reason" otherwise.
 */
#ifndef POSTERN_MAP_TEXT_H
#define POSTERN_MAP_TEXT_H

#include "argv.h"
#include "strbuf.h"

typedef struct map_text_cursor {
    const char *next;
    const char *end;
    int     line;
} map_text_cursor;

void    map_text_start(map_text_cursor *cursor, const strbuf *text);
int     map_text_next(map_text_cursor *cursor, strbuf *line, int *orphan);

#define MAP_TEXT_OK          0
#define MAP_TEXT_ALIAS_FORM  1
#define MAP_TEXT_BAD         (-1)

int     map_text_entry(char *line, char **key, char **value, strbuf *why);
int     map_split_list(const char *text, argv_t *items, strbuf *why);
int     map_unbrace(const char *item, strbuf *inside);
int     map_read_fd(int fd, const char *path, strbuf *text, strbuf *why);
int     map_open_regular(const char *path, strbuf *why);
void    map_trim(strbuf *text);

#endif

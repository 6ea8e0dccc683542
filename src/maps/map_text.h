/*
 * map_text - reading the text forms of lookup tables.
 *
 * Logical lines of table sources come from logical_line (src/util) with
 * LOGICAL_LINE_KEEP_SPACE.
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
 * Whole files are read with fd_read_text() (src/util). map_open_regular() opens a file
 * for reading only if it is a regular file (never waiting on a FIFO or
 * reading a device forever); -1 with "open FILE: reason" otherwise.
 */
#ifndef POSTERN_MAP_TEXT_H
#define POSTERN_MAP_TEXT_H

#include "argv.h"
#include "strbuf.h"

#define MAP_TEXT_OK          0
#define MAP_TEXT_ALIAS_FORM  1
#define MAP_TEXT_BAD         (-1)

int     map_text_entry(char *line, char **key, char **value, strbuf *why);
int     map_split_list(const char *text, argv_t *items, strbuf *why);
int     map_unbrace(const char *item, strbuf *inside);
int     map_open_regular(const char *path, strbuf *why);
void    map_trim(strbuf *text);

#endif

/*
 * logical_line - Postfix-style logical lines. See logical_line.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "logical_line.h"

void logical_line_start(logical_cursor *cursor, const char *text)
{
    cursor->next = text;
    cursor->line = 0;
}

static void trim_trailing(strbuf *sb)
{
    while (sb->len && isspace((unsigned char) sb->data[sb->len - 1]))
        strbuf_truncate(sb, sb->len - 1);
}

/* Classifies the physical line at cp: 0 skip, 1 new line, 2 continuation. */
static int classify(const char *cp, size_t len, size_t *indent)
{
    size_t  skip = 0;

    while (skip < len && isspace((unsigned char) cp[skip]))
        skip++;
    *indent = skip;
    if (skip == len || cp[skip] == '#')
        return 0;
    return skip > 0 ? 2 : 1;
}

int logical_line_next(logical_cursor *cursor, strbuf *line, int *orphan)
{
    int     first = 0;

    strbuf_reset(line);
    *orphan = 0;
    while (*cursor->next) {
        const char *cp = cursor->next;
        size_t  len = strcspn(cp, "\n");
        size_t  indent;
        int     kind = classify(cp, len, &indent);

        if (kind == 1 && first)
            break;                      /* the next logical line starts here */
        cursor->next += len + (cp[len] == '\n');
        cursor->line++;
        if (kind == 0)
            continue;
        if (first == 0) {
            first = cursor->line;
            *orphan = kind == 2;
        } else {
            strbuf_append_char(line, ' ');
        }
        strbuf_append(line, cp + indent, len - indent);
        trim_trailing(line);
        if (*orphan)
            break;
    }
    return first;
}

int file_read_text(const char *path, strbuf *text, strbuf *error)
{
    FILE   *fp = fopen(path, "r");
    char    chunk[8192];
    size_t  n;

    strbuf_reset(text);
    if (fp == NULL) {
        strbuf_printf(error, "open %s: %s", path, strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        strbuf_append(text, chunk, n);
    if (ferror(fp)) {
        strbuf_printf(error, "read %s: %s", path, strerror(errno));
        fclose(fp);
        return -1;
    }
    fclose(fp);
    if (memchr(text->data, 0, text->len)) {
        strbuf_printf(error, "%s: file contains a NUL byte", path);
        return -1;
    }
    return 0;
}

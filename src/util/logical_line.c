/*
 * logical_line - Postfix-style logical lines. See logical_line.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logical_line.h"

void logical_line_start(logical_cursor *cursor, const char *text, int flags)
{
    cursor->next = text;
    cursor->line = 0;
    cursor->flags = flags;
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
        }
        if (cursor->flags & LOGICAL_LINE_KEEP_SPACE) {
            strbuf_append(line, cp, len);
        } else {
            if (line->len)
                strbuf_append_char(line, ' ');
            strbuf_append(line, cp + indent, len - indent);
            trim_trailing(line);
        }
        if (*orphan)
            break;
    }
    return first;
}

int fd_read_text(int fd, const char *name, strbuf *text, strbuf *error)
{
    char    chunk[8192];
    ssize_t count;

    strbuf_reset(text);
    while ((count = read(fd, chunk, sizeof(chunk))) != 0) {
        if (count < 0) {
            if (errno == EINTR)
                continue;
            strbuf_printf(error, "read %s: %s", name, strerror(errno));
            return -1;
        }
        strbuf_append(text, chunk, (size_t) count);
    }
    if (memchr(text->data, 0, text->len)) {
        strbuf_printf(error, "%s: file contains a NUL byte", name);
        return -1;
    }
    return 0;
}

int file_read_text(const char *path, strbuf *text, strbuf *error)
{
    struct stat st;
    int     fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    int     rc;

    strbuf_reset(text);
    if (fd < 0) {
        strbuf_printf(error, "open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        strbuf_printf(error, "open %s: not a regular file", path);
        close(fd);
        return -1;
    }
    rc = fd_read_text(fd, path, text, error);
    close(fd);
    return rc;
}

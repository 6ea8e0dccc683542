/*
 * map_text - reading the text forms of lookup tables. See map_text.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "map_text.h"

void    map_trim(strbuf *text)
{
    size_t  start = 0;

    while (text->len && isspace((unsigned char) text->data[text->len - 1]))
        strbuf_truncate(text, text->len - 1);
    while (start < text->len && isspace((unsigned char) text->data[start]))
        start++;
    if (start) {
        memmove(text->data, text->data + start, text->len - start + 1);
        text->len -= start;
    }
}

/* Finds the end of a key; NULL when a double quote is left open. */
static char *key_end(char *cp)
{
    int     quoted = 0;

    for (; *cp; cp++) {
        if (quoted && *cp == '\\' && cp[1])
            cp++;
        else if (*cp == '"')
            quoted = !quoted;
        else if (!quoted && isspace((unsigned char) *cp))
            break;
    }
    return quoted ? NULL : cp;
}

int     map_text_entry(char *line, char **key, char **value, strbuf *why)
{
    char   *end;
    char   *tail;

    while (isspace((unsigned char) *line))
        line++;
    if ((end = key_end(line)) == NULL) {
        strbuf_printf(why, "unbalanced '\"' in '%s'", line);
        return MAP_TEXT_BAD;
    }
    for (*value = end; isspace((unsigned char) **value); (*value)++)
         /* skip */ ;
    for (tail = *value + strlen(*value); tail > *value && isspace((unsigned char) tail[-1]);)
        *--tail = 0;
    if (end == line || **value == 0) {
        strbuf_set(why, "expected format: key whitespace value");
        return MAP_TEXT_BAD;
    }
    *end = 0;
    *key = line;
    return end[-1] == ':' ? MAP_TEXT_ALIAS_FORM : MAP_TEXT_OK;
}

int     map_split_list(const char *text, argv_t *items, strbuf *why)
{
    const char *cp = text;

    while (*cp) {
        const char *start;
        int     depth = 0;

        cp += strspn(cp, ", \t\r\n");
        if (*cp == 0)
            break;
        for (start = cp; *cp && (depth > 0 || !strchr(", \t\r\n", *cp)); cp++) {
            if (*cp == '{')
                depth++;
            else if (*cp == '}' && --depth < 0)
                break;
        }
        if (depth != 0) {
            strbuf_printf(why, "unbalanced '%c' in \"%s\"", depth > 0 ? '{' : '}', text);
            return -1;
        }
        argv_add_mem(items, start, (size_t) (cp - start));
    }
    return 0;
}

int     map_unbrace(const char *item, strbuf *inside)
{
    size_t  len = strlen(item);

    if (len < 2 || item[0] != '{' || item[len - 1] != '}')
        return -1;
    strbuf_set_mem(inside, item + 1, len - 2);
    map_trim(inside);
    return 0;
}

int     map_open_regular(const char *path, strbuf *why)
{
    struct stat st;
    int     fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0) {
        strbuf_printf(why, "open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        strbuf_printf(why, "fstat %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        strbuf_printf(why, "open %s: not a regular file", path);
        close(fd);
        return -1;
    }
    return fd;
}

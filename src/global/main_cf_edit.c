/*
 * main_cf_edit - change main.cf text, keeping comments. See main_cf_edit.h.
 */
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "config.h"
#include "main_cf_edit.h"
#include "mem.h"

static int is_indented_content(const char *line)
{
    size_t  skip = strspn(line, " \t\r");

    return skip > 0 && line[skip] && line[skip] != '\n' && line[skip] != '#';
}

static int is_blank_or_comment(const char *line)
{
    size_t  skip = strspn(line, " \t\r");

    return line[skip] == '\n' || line[skip] == 0 || line[skip] == '#';
}

/* The name of the entry starting at this physical line, or NULL. */
static char *entry_name(const char *line)
{
    size_t  len = strcspn(line, " \t=\r\n");

    if (len == 0 || line[0] == '#')
        return NULL;
    return xstrndup(line, len);
}

/* Number of physical lines, from index first, that belong to the entry. */
static size_t entry_span(const argv_t *lines, size_t first)
{
    size_t  end = first + 1;

    for (size_t i = first + 1; i < lines->count; i++) {
        if (is_indented_content(lines->items[i]))
            end = i + 1;
        else if (!is_blank_or_comment(lines->items[i]))
            break;
    }
    return end - first;
}

static long find_name(char **names, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0)
            return (long) i;
    return -1;
}

static argv_t *split_lines(const char *text)
{
    argv_t *lines = argv_new(64);

    while (*text) {
        size_t  len = strcspn(text, "\n");

        len += text[len] == '\n';
        argv_add_mem(lines, text, len);
        text += len;
    }
    return lines;
}

static void edit_entry(strbuf *out, const argv_t *lines, size_t first, size_t span,
                       enum main_cf_edit mode, const char *name, const char *value)
{
    if (mode == MAIN_CF_SET) {
        strbuf_append_printf(out, "%s = %s\n", name, value);
    } else if (mode == MAIN_CF_COMMENT) {
        for (size_t i = first; i < first + span; i++) {
            strbuf_append_char(out, '#');
            strbuf_append_str(out, lines->items[i]);
        }
    }
}

void main_cf_edit_text(const char *text, enum main_cf_edit mode, char **names,
                       char **values, size_t count, strbuf *out)
{
    argv_t *lines = split_lines(text);
    char   *done = xcalloc(count ? count : 1, 1);

    strbuf_reset(out);
    for (size_t i = 0; i < lines->count;) {
        char   *name = entry_name(lines->items[i]);
        long    which = name ? find_name(names, count, name) : -1;
        size_t  span = name ? entry_span(lines, i) : 1;

        if (which >= 0) {
            edit_entry(out, lines, i, span, mode, names[which],
                       mode == MAIN_CF_SET ? values[which] : NULL);
            done[which] = 1;
        } else {
            for (size_t j = i; j < i + span; j++)
                strbuf_append_str(out, lines->items[j]);
        }
        free(name);
        i += span;
    }
    if (mode == MAIN_CF_SET) {
        if (out->len && strbuf_last(out) != '\n')
            strbuf_append_char(out, '\n');
        for (size_t i = 0; i < count; i++)
            if (!done[i])
                strbuf_append_printf(out, "%s = %s\n", names[i], values[i]);
    }
    free(done);
    argv_free(lines);
}

int main_cf_edit_check(const char *name, const char *value, strbuf *why)
{
    if (!config_name_valid(name)) {
        strbuf_printf(why, "bad parameter name: \"%s\"", name);
        return -1;
    }
    if (value && strpbrk(value, "\r\n")) {
        strbuf_printf(why, "bad value for parameter %s: contains a newline", name);
        return -1;
    }
    return 0;
}

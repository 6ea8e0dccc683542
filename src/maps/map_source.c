/*
 * map_source - the text of a rule table: a file, or rules written inline.
 * See map_impl.h.
 */
#include <stdarg.h>

#include "map_impl.h"
#include "logical_line.h"
#include "map_text.h"
#include "mem.h"
#include "msg.h"

/* "{ {rule-1}, {rule-2} }" becomes "rule-1\nrule-2\n". */
static int inline_rules(map_t *map, const char *label, strbuf *text, strbuf *why)
{
    strbuf *inside = strbuf_new(64);
    strbuf *rule = strbuf_new(64);
    argv_t *items = argv_new(8);
    int     status = 0;

    if (map_unbrace(map->name, inside) < 0 || map_split_list(inside->data, items, why) < 0) {
        if (why->len == 0)
            strbuf_printf(why, "%s: bad inline syntax in \"%s\"", label, map->spec);
        status = -1;
    }
    for (size_t i = 0; status == 0 && i < items->count; i++) {
        if (map_unbrace(items->items[i], rule) < 0) {
            strbuf_printf(why, "%s: no '{' at start of text in \"%s\"", label, items->items[i]);
            status = -1;
        } else {
            strbuf_append(text, rule->data, rule->len);
            strbuf_append_char(text, '\n');
        }
    }
    argv_free(items);
    strbuf_free(rule);
    strbuf_free(inside);
    return status;
}

int     map_load_source(map_t *map, const char *label, strbuf *text, strbuf *why)
{
    strbuf_reset(text);
    if (map->name[0] == '{')
        return inline_rules(map, label, text, why);
    if ((map->fd = map_open_regular(map->name, why)) < 0)
        return -1;
    map->fd_owned = 1;
    map->path = xstrdup(map->name);
    return fd_read_text(map->fd, map->name, text, why);
}

void    map_text_error(map_t *map, int *errors, const char *fmt, ...)
{
    strbuf *text = strbuf_new(128);
    va_list ap;

    va_start(ap, fmt);
    strbuf_append_vprintf(text, fmt, ap);
    va_end(ap);
    msg_warn("%s", text->data);
    if ((*errors)++ == 0)
        strbuf_set(map->error, text->data);
    strbuf_free(text);
}

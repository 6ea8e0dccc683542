/*
 * map_inline - inline:{ key=value, { key = value with spaces } }.
 *
 * The table is the text of its name: entries separated by commas or white
 * space; an entry with white space or commas in it goes inside braces.
 * Each entry is "name=value" (white space around both is dropped). Keys are
 * folded at open when the map folds. A bad entry or an empty table breaks
 * the map, with a reason that quotes the table.
 */
#include <string.h>

#include "map_impl.h"
#include "map_text.h"

#define INLINE_SYNTAX "need \"inline:{name=value...}\""

static int inline_add(map_t *map, map_memory *table, const char *item, strbuf *entry,
                      strbuf *why)
{
    const char *equals;
    strbuf *key;
    strbuf *value;
    int     status = 0;

    if (map_unbrace(item, entry) < 0)
        strbuf_set(entry, item);
    if ((equals = strchr(entry->data, '=')) == NULL || equals == entry->data) {
        strbuf_printf(why, "missing '=' after attribute name: \"%s\"; " INLINE_SYNTAX,
                      map->spec);
        return -1;
    }
    key = strbuf_new(32);
    value = strbuf_from(equals + 1);
    strbuf_set_mem(key, entry->data, (size_t) (equals - entry->data));
    map_trim(key);
    map_trim(value);
    if ((map->flags & MAP_FLAG_FOLD))
        strbuf_lowercase(key);
    if (key->len == 0 || value->len == 0) {
        strbuf_printf(why, "empty name or value in \"%s\"; " INLINE_SYNTAX, map->spec);
        status = -1;
    } else {
        (void) map_memory_put(table, key->data, value->data);
    }
    strbuf_free(value);
    strbuf_free(key);
    return status;
}

static int inline_open(map_t *map, strbuf *why)
{
    strbuf *inside = strbuf_new(64);
    argv_t *items = argv_new(8);
    map_memory *table = map_memory_new();
    int     status = 0;

    map->impl = table;
    if (map_unbrace(map->name, inside) < 0 || map_split_list(inside->data, items, why) < 0
        || items->count == 0) {
        strbuf_printf(why, "bad syntax: \"%s\"; " INLINE_SYNTAX, map->spec);
        status = -1;
    }
    for (size_t i = 0; status == 0 && i < items->count; i++)
        status = inline_add(map, table, items->items[i], inside, why);
    argv_free(items);
    strbuf_free(inside);
    return status;
}

const map_type map_type_inline = {
    .name = "inline",
    .properties = MAP_FLAG_FIXED,
    .open = inline_open,
    .lookup = map_memory_lookup,
    .sequence = map_memory_sequence,
    .close = map_memory_close,
};

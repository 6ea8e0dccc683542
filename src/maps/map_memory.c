/*
 * map_memory - a table held in memory, for inline: and texthash:.
 *
 * map_memory_put() copies key and value; it returns 0, or 1 when the key
 * is already there (the first value stays, as Postfix keeps it). The
 * lookup, sequence and close functions serve as the type callbacks of a
 * map whose impl is a map_memory.
 */
#include <stdlib.h>

#include "map_impl.h"
#include "mem.h"

map_memory *map_memory_new(void)
{
    map_memory *table = xcalloc(1, sizeof(*table));

    table->entries = htable_new(16);
    table->order = argv_new(16);
    return table;
}

int     map_memory_put(map_memory *table, const char *key, const char *value)
{
    if (htable_find(table->entries, key))
        return 1;
    htable_put(table->entries, key, xstrdup(value), NULL);
    argv_add(table->order, key);
    return 0;
}

int     map_memory_lookup(map_t *map, const char *key, strbuf *value)
{
    map_memory *table = map->impl;
    const char *found = htable_get(table->entries, key);

    if (found == NULL)
        return MAP_NOTFOUND;
    strbuf_set(value, found);
    return MAP_OK;
}

int     map_memory_sequence(map_t *map, int first, strbuf *key, strbuf *value)
{
    map_memory *table = map->impl;
    const char *name;

    if (first)
        table->cursor = 0;
    if (table->cursor >= table->order->count)
        return MAP_NOTFOUND;
    name = table->order->items[table->cursor++];
    strbuf_set(key, name);
    strbuf_set(value, htable_get(table->entries, name));
    return MAP_OK;
}

void    map_memory_close(map_t *map)
{
    map_memory *table = map->impl;

    htable_free(table->entries, free);
    argv_free(table->order);
    free(table);
    map->impl = NULL;
}

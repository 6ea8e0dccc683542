/*
 * maps - a list of lookup tables searched in order. See maps.h.
 */
#include <stdlib.h>

#include "argv.h"
#include "map_text.h"
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "strbuf.h"

struct maps {
    char   *title;
    map_t **tables;
    size_t  count;
    int     broken;                     /* the list itself did not parse */
    strbuf *error;
};

maps_t *maps_open(const char *title, const char *list, int flags)
{
    maps_t *maps = xcalloc(1, sizeof(*maps));
    argv_t *items = argv_new(4);

    maps->title = xstrdup(title);
    maps->error = strbuf_new(64);
    if (map_split_list(list, items, maps->error) < 0) {
        maps->broken = 1;
        msg_warn("%s: %s", title, maps->error->data);
    }
    maps->tables = xcalloc(items->count ? items->count : 1, sizeof(map_t *));
    for (size_t i = 0; !maps->broken && i < items->count; i++) {
        map_t  *map = map_open(items->items[i], MAP_READ, flags);

        if (map_broken(map))
            msg_warn("%s: %s", title, map_error(map));
        maps->tables[maps->count++] = map;
    }
    argv_free(items);
    return maps;
}

int     maps_find(maps_t *maps, const char *key, int table_flags, const char **value)
{
    *value = NULL;
    if (maps->broken)
        return MAP_ERROR;
    if (*key == 0)
        return MAP_NOTFOUND;
    for (size_t i = 0; i < maps->count; i++) {
        map_t  *map = maps->tables[i];

        if (table_flags && !(map_flags(map) & table_flags))
            continue;
        switch (map_lookup(map, key, value)) {
        case MAP_OK:
            return MAP_OK;
        case MAP_ERROR:
            strbuf_printf(maps->error, "%s lookup error for \"%s\": %s", map_spec(map), key,
                          map_error(map));
            msg_warn("%s: %s", maps->title, maps->error->data);
            return MAP_ERROR;
        }
    }
    return MAP_NOTFOUND;
}

const char *maps_error(const maps_t *maps)
{
    return maps->error->data;
}

size_t  maps_count(const maps_t *maps)
{
    return maps->count;
}

void    maps_free(maps_t *maps)
{
    if (maps == NULL)
        return;
    for (size_t i = 0; i < maps->count; i++)
        map_close(maps->tables[i]);
    free(maps->tables);
    free(maps->title);
    strbuf_free(maps->error);
    free(maps);
}

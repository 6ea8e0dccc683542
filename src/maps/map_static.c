/*
 * map_static - static:value answers every lookup with value; fail:name
 * fails every request (to test error handling).
 *
 * static:{text with spaces} takes the text inside the braces. Neither type
 * supports update or sequence.
 */
#include <stdlib.h>

#include "map_impl.h"
#include "map_text.h"
#include "mem.h"

static int static_open(map_t *map, strbuf *why)
{
    strbuf *value = strbuf_new(64);

    if (map_unbrace(map->name, value) < 0)
        strbuf_set(value, map->name);
    map->impl = strbuf_steal(value);
    return 0;
}

static int static_lookup(map_t *map, const char *key, strbuf *value)
{
    strbuf_set(value, map->impl);
    return MAP_OK;
}

static void static_close(map_t *map)
{
    free(map->impl);
    map->impl = NULL;
}

const map_type map_type_static = {
    .name = "static",
    .properties = MAP_FLAG_FIXED,
    .open = static_open,
    .lookup = static_lookup,
    .close = static_close,
};

/* fail: ----------------------------------------------------------------- */

static int fail_open(map_t *map, strbuf *why)
{
    map->impl = map;                    /* nothing to hold, but open */
    return 0;
}

static int fail_lookup(map_t *map, const char *key, strbuf *value)
{
    return map_fail(map, "configured to fail every request");
}

static int fail_update(map_t *map, const char *key, const char *value, int replace)
{
    return fail_lookup(map, key, NULL);
}

static int fail_delete(map_t *map, const char *key)
{
    return fail_lookup(map, key, NULL);
}

static int fail_sequence(map_t *map, int first, strbuf *key, strbuf *value)
{
    return fail_lookup(map, "", NULL);
}

static void fail_close(map_t *map)
{
    map->impl = NULL;
}

const map_type map_type_fail = {
    .name = "fail",
    .properties = MAP_FLAG_FIXED | MAP_FLAG_PATTERN,
    .open = fail_open,
    .lookup = fail_lookup,
    .update = fail_update,
    .delete = fail_delete,
    .sequence = fail_sequence,
    .close = fail_close,
};

/*
 * map_types - the table types this build knows, by name.
 *
 * Adding a type is one line here plus the file that defines its
 * map_type (see map_impl.h).
 */
#include <string.h>

#include "map_impl.h"

extern const map_type map_type_hash;
extern const map_type map_type_btree;
extern const map_type map_type_lmdb;
extern const map_type map_type_cdb;
extern const map_type map_type_regexp;
extern const map_type map_type_pcre;
extern const map_type map_type_cidr;
extern const map_type map_type_inline;
extern const map_type map_type_static;
extern const map_type map_type_texthash;
extern const map_type map_type_unix;
extern const map_type map_type_fail;
extern const map_type map_type_proxy;

static const map_type *const map_types[] = {
    &map_type_hash,
    &map_type_btree,
    &map_type_lmdb,
    &map_type_cdb,
    &map_type_regexp,
    &map_type_pcre,
    &map_type_cidr,
    &map_type_inline,
    &map_type_static,
    &map_type_texthash,
    &map_type_unix,
    &map_type_fail,
    &map_type_proxy,
};

#define TYPE_COUNT (sizeof(map_types) / sizeof(map_types[0]))

argv_t *map_type_names(void)
{
    argv_t *names = argv_new(TYPE_COUNT);

    for (size_t i = 0; i < TYPE_COUNT; i++)
        argv_add(names, map_types[i]->name);
    return names;
}

const map_type *map_type_find(const char *name)
{
    for (size_t i = 0; i < TYPE_COUNT; i++)
        if (strcmp(map_types[i]->name, name) == 0)
            return map_types[i];
    return NULL;
}

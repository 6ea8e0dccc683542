/*
 * maps - a list of lookup tables searched in order, as a parameter such as
 * "virtual_alias_maps = hash:/etc/postfix/virtual, regexp:/etc/postfix/re"
 * names them.
 *
 * maps_open(title, list, flags) opens every "type:name" of the list (comma
 * or white space separated; text inside {} stays together) with
 * MAP_READ and `flags` (normally MAP_FLAG_FOLD). `title` names the list in
 * messages (usually the parameter name). A table that cannot be opened is
 * logged ("warning: TITLE: REASON") and stays in the list, broken, so a
 * search that reaches it fails instead of skipping it; the same goes for a
 * list that cannot be parsed.
 *
 * maps_find(maps, key, table_flags, &value) tries each table in turn and
 * returns the first value found (MAP_OK), MAP_NOTFOUND when no table has
 * the key (an empty key is never found), or MAP_ERROR when a table failed
 * before any had the key: the search stops there, because the answer is
 * unknown. maps_error() then says which table and why; the failure is also
 * logged. With table_flags MAP_FLAG_FIXED, only fixed-string tables are
 * asked (for partial keys such as "@domain"); with MAP_FLAG_PATTERN only
 * pattern tables; with 0, all.
 *
 * Memory: maps_open() returns an object freed with maps_free(); a value
 * belongs to the table that returned it and is valid until the next search.
 */
#ifndef POSTERN_MAPS_H
#define POSTERN_MAPS_H

#include <stddef.h>

#include "map.h"

typedef struct maps maps_t;

maps_t *maps_open(const char *title, const char *list, int flags);
int     maps_find(maps_t *maps, const char *key, int table_flags, const char **value);
const char *maps_error(const maps_t *maps);
size_t  maps_count(const maps_t *maps);
void    maps_free(maps_t *maps);

#endif

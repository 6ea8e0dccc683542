/*
 * map - one lookup table behind one interface.
 *
 * A table is named "type:name" as in main.cf ("hash:/etc/postfix/virtual",
 * "regexp:/etc/postfix/header_checks", "inline:{ a=b, c=d }"). The types
 * are listed in map_types.c; adding one is one entry there.
 *
 * Interface:
 *   map_open(spec, mode, flags)     MAP_READ or MAP_UPDATE (in place)
 *   map_create(spec, flags, mode)   build a new file-backed table
 *   map_lookup(map, key, &value)    MAP_OK, MAP_NOTFOUND or MAP_ERROR
 *   map_update(map, key, value)     MAP_OK, MAP_DUPLICATE or MAP_ERROR
 *   map_add_if_absent(map, key, value)   same, never replacing nor warning
 *   map_delete(map, key)            MAP_OK, MAP_NOTFOUND or MAP_ERROR
 *   map_sequence(map, first, &key, &value)   MAP_OK, MAP_NOTFOUND at the end
 *   map_commit(map)                 finish a map_create(): make it visible
 *   map_close(map)
 *
 * Opening never fails outright: a table that cannot be opened (unknown
 * type, missing file, malformed line) comes back "broken": map_broken() is
 * true, map_error() says why, naming the table and, for text tables, the
 * line, and every operation returns MAP_ERROR. A daemon therefore defers
 * what it cannot decide instead of crashing or guessing; a command reports
 * map_error() and exits.
 *
 * Keys: with MAP_FLAG_FOLD, keys of fixed-string tables (hash, btree, lmdb,
 * cdb, texthash, inline, unix) are folded to lower case on lookup and on
 * update; pattern tables (regexp, pcre, cidr) see the key as given.
 * MAP_FLAG_NUL / MAP_FLAG_NO_NUL select whether keys and values stored in
 * database files include their terminating NUL (postmap -N / -n); with
 * neither, lookups try both and writes use the type's usual convention (with
 * NUL for hash, btree and lmdb, without for cdb, as Postfix on Linux).
 *
 * Lookup and sequence are for MAP_READ and MAP_UPDATE maps; a table that
 * is being created answers them with MAP_ERROR.
 *
 * Duplicates on update: MAP_FLAG_DUP_REPLACE overwrites silently,
 * MAP_FLAG_DUP_IGNORE keeps the old value silently, otherwise the old
 * value is kept with a warning "FILE: duplicate entry: "key"".
 *
 * Changes on disk: a table opened with MAP_READ keeps its file open and
 * notices, on each lookup, when the file was replaced (postmap renames a new
 * file over it) or modified in place. It then reopens the file by its name
 * when that name still leads to it; a process that has since chrooted, or
 * that may no longer open the file, keeps using the table it has and
 * map_changed_name() reports it, so the daemon can exit between requests
 * and be restarted with fresh tables. See docs/maps.md.
 *
 * Database reads take a shared lock and in-place updates an exclusive one
 * (flock on the table file), so a reader never sees a half-done update.
 * map_create() writes a temporary file next to the table and map_commit()
 * fsyncs and renames it over the table: readers see the old table or the
 * new one, never a partial one. A map_create() closed without commit
 * removes its temporary file; map_remove_temp_files() does the same from
 * an exit hook.
 *
 * map_type_names() lists the types this build supports (postconf -m);
 * map_can_create() tells which of them postmap can build, and
 * map_file_suffix() the suffix of their files (".db").
 *
 * Memory: map_open/map_create return a map the caller frees with
 * map_close(). Strings returned through `value` and `key` belong to the map
 * and stay valid until the next operation on it. map_error() likewise.
 * map_type_names() returns a new argv the caller frees.
 */
#ifndef POSTERN_MAP_H
#define POSTERN_MAP_H

#include <sys/types.h>

#include "argv.h"

typedef struct map map_t;

/* Results. */
#define MAP_OK          0
#define MAP_NOTFOUND    1
#define MAP_DUPLICATE   2
#define MAP_ERROR       (-1)

/* Open modes. */
#define MAP_READ        0
#define MAP_UPDATE      1

/* Flags given by the caller. */
#define MAP_FLAG_FOLD           (1 << 0)    /* fold keys of fixed-string tables */
#define MAP_FLAG_NUL            (1 << 1)    /* keys and values include the NUL */
#define MAP_FLAG_NO_NUL         (1 << 2)    /* keys and values exclude the NUL */
#define MAP_FLAG_DUP_IGNORE     (1 << 3)    /* duplicate update: keep old, quietly */
#define MAP_FLAG_DUP_REPLACE    (1 << 4)    /* duplicate update: overwrite, quietly */

/* Properties of the table type (read with map_flags()). */
#define MAP_FLAG_FIXED          (1 << 8)    /* keys are fixed strings */
#define MAP_FLAG_PATTERN        (1 << 9)    /* keys are matched against patterns */

map_t  *map_open(const char *spec, int mode, int flags);
map_t  *map_create(const char *spec, int flags, mode_t file_mode);
int     map_lookup(map_t *map, const char *key, const char **value);
int     map_update(map_t *map, const char *key, const char *value);
int     map_add_if_absent(map_t *map, const char *key, const char *value);
int     map_delete(map_t *map, const char *key);
int     map_sequence(map_t *map, int first, const char **key, const char **value);
int     map_commit(map_t *map);
void    map_close(map_t *map);

int     map_broken(const map_t *map);
const char *map_error(const map_t *map);
const char *map_spec(const map_t *map);
int     map_flags(const map_t *map);
int     map_can_create(const char *type);
const char *map_file_suffix(const char *type);
argv_t *map_type_names(void);

const char *map_changed_name(void);
void    map_remove_temp_files(void);

#endif

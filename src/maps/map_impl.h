/*
 * map_impl - what a table type implements, and the map fields it may use.
 *
 * Private to src/maps. A type is one `map_type` value listed in
 * map_types.c. Its callbacks get the map with `name` (the text after
 * "type:"), `mode` and `flags` set, and:
 *
 *   open(map, why)      MAP_READ or MAP_UPDATE. Sets map->impl, and for a
 *                       file-backed table map->fd (the descriptor that is
 *                       watched for changes and locked) and map->path.
 *                       Returns 0, or -1 with the reason in `why` (which
 *                       names the table and, for text, the line).
 *   create(map, path, why)  bulk creation into the (temporary) file `path`.
 *   lookup(map, key, value) key already folded when the table folds.
 *   update(map, key, value, replace)   MAP_OK / MAP_DUPLICATE / MAP_ERROR
 *   delete(map, key)
 *   sequence(map, first, key, value)
 *   finish(map, why)    creation only: write everything out and release
 *                       the file (the caller fsyncs and renames it).
 *   close(map)          release everything (impl, descriptors).
 *
 * Operations a type does not support are NULL; the map layer answers
 * "operation is not supported" for them. A failing operation puts its
 * reason in map->error and returns MAP_ERROR.
 *
 * Database types store keys with or without the terminating NUL;
 * map_nul_lookup() and map_nul_length() implement the MAP_FLAG_NUL /
 * MAP_FLAG_NO_NUL convention for them.
 *
 * Text types read their rules with map_load_source(): the file map->name
 * (kept open as map->fd for change detection) or, when the name is
 * "{ {rule}, {rule} }", the rules written inline, one per line.
 * map_text_error() logs one bad line ("LABEL FILE, line N: reason") and
 * keeps the first such message in map->error; a type whose text had any
 * error fails its open, so the table is broken rather than silently short
 * of a rule.
 */
#ifndef POSTERN_MAP_IMPL_H
#define POSTERN_MAP_IMPL_H

#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "argv.h"
#include "htable.h"
#include "map.h"
#include "strbuf.h"

/* Type properties besides MAP_FLAG_FIXED / MAP_FLAG_PATTERN. */
#define MAP_TYPE_LOCK           (1 << 16)   /* reads take a shared lock */
#define MAP_TYPE_DEFAULT_NUL    (1 << 17)   /* writes include the NUL by default */

typedef struct map_type {
    const char *name;
    const char *suffix;                 /* appended to name for the file, or NULL */
    int     properties;
    int   (*open)(map_t *map, strbuf *why);
    int   (*create)(map_t *map, const char *path, strbuf *why);
    int   (*lookup)(map_t *map, const char *key, strbuf *value);
    int   (*update)(map_t *map, const char *key, const char *value, int replace);
    int   (*delete)(map_t *map, const char *key);
    int   (*sequence)(map_t *map, int first, strbuf *key, strbuf *value);
    int   (*finish)(map_t *map, strbuf *why);
    void  (*close)(map_t *map);
} map_type;

struct map {
    const map_type *type;
    char   *spec;                       /* "type:name" */
    char   *type_name;                  /* text before ':' (type may be NULL) */
    char   *name;                       /* text after "type:" */
    int     mode;                       /* MAP_READ, MAP_UPDATE, or MAP_CREATING */
    int     open_flags;                 /* flags as the caller gave them */
    int     flags;                      /* in use: NUL convention settles on use */
    void   *impl;                       /* the type's own state */
    strbuf *key;                        /* folded key */
    strbuf *value;                      /* last value or sequence value */
    strbuf *seq_key;
    strbuf *error;
    int     broken;
    /* the file, for change detection and locking */
    char   *path;
    int     fd;
    int     fd_owned;                   /* map_close() closes fd */
    struct stat file_st;
    struct stat root_st;                /* "/" when opened: a chroot changes it */
    time_t  path_checked;
    int     changed;                    /* changed on disk, could not reopen */
    /* creation */
    char   *temp_path;
    char   *final_path;
    int     committed;
    struct map *next_open;              /* registry: maps open for reading */
    struct map *next_temp;              /* registry: maps with a temporary file */
};

#define MAP_CREATING 2

const map_type *map_type_find(const char *name);

/* Tables held in memory (inline, texthash): keys in insertion order. */
typedef struct map_memory {
    htable *entries;                    /* key -> value (owned) */
    argv_t *order;                      /* keys as added, for sequence */
    size_t  cursor;
} map_memory;

map_memory *map_memory_new(void);
int     map_memory_put(map_memory *table, const char *key, const char *value);
int     map_memory_lookup(map_t *map, const char *key, strbuf *value);
int     map_memory_sequence(map_t *map, int first, strbuf *key, strbuf *value);
void    map_memory_close(map_t *map);

/* Helpers for text types. */
int     map_load_source(map_t *map, const char *label, strbuf *text, strbuf *why);
void    map_text_error(map_t *map, int *errors, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Helpers for database types. */
typedef int (*map_get_fn)(map_t *map, const void *key, size_t len, strbuf *value);
int     map_nul_lookup(map_t *map, const char *key, map_get_fn get, strbuf *value);
size_t  map_nul_length(const map_t *map, const char *text);
void    map_strip_nul(strbuf *text);
int     map_fail(map_t *map, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

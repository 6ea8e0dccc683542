/*
 * htable - a hash table from NUL-terminated string keys to pointers.
 *
 * The table owns copies of its keys; values belong to the caller unless a
 * free function is given to htable_free()/htable_delete(). Iteration order is
 * unspecified; htable_keys() returns a sorted argv for stable output.
 * Tables grow as they fill, so lookups stay O(1) for any size.
 */
#ifndef POSTERN_HTABLE_H
#define POSTERN_HTABLE_H

#include <stddef.h>

#include "argv.h"

typedef struct htable_entry {
    char   *key;
    void   *value;
    struct htable_entry *next;
} htable_entry;

typedef struct htable {
    htable_entry **buckets;
    size_t  size;                       /* number of buckets */
    size_t  used;                       /* number of entries */
} htable;

typedef void (*htable_free_fn)(void *value);

htable *htable_new(size_t expected);
void    htable_free(htable *table, htable_free_fn free_value);
void   *htable_get(const htable *table, const char *key);
htable_entry *htable_find(const htable *table, const char *key);
void    htable_put(htable *table, const char *key, void *value,
                   htable_free_fn free_old);
void    htable_delete(htable *table, const char *key, htable_free_fn free_value);
argv_t *htable_keys(const htable *table);

/* Visit every entry: for (i = 0, e = NULL; (e = htable_next(t, &i, e)); ) */
htable_entry *htable_next(const htable *table, size_t *bucket, htable_entry *prev);

#endif

/*
 * htable - a hash table from string keys to pointers. See htable.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "htable.h"
#include "mem.h"

static size_t hash_key(const char *key, size_t size)
{
    uint64_t h = 1469598103934665603ULL;        /* FNV-1a */

    for (const unsigned char *cp = (const unsigned char *) key; *cp; cp++) {
        h ^= *cp;
        h *= 1099511628211ULL;
    }
    return (size_t) (h % size);
}

htable *htable_new(size_t expected)
{
    htable *table = xmalloc(sizeof(*table));

    table->size = expected < 13 ? 13 : expected | 1;
    table->buckets = xcalloc(table->size, sizeof(htable_entry *));
    table->used = 0;
    return table;
}

void htable_free(htable *table, htable_free_fn free_value)
{
    if (table == NULL)
        return;
    for (size_t i = 0; i < table->size; i++) {
        htable_entry *e = table->buckets[i];

        while (e) {
            htable_entry *next = e->next;

            if (free_value)
                free_value(e->value);
            free(e->key);
            free(e);
            e = next;
        }
    }
    free(table->buckets);
    free(table);
}

htable_entry *htable_find(const htable *table, const char *key)
{
    for (htable_entry *e = table->buckets[hash_key(key, table->size)]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

void *htable_get(const htable *table, const char *key)
{
    htable_entry *e = htable_find(table, key);

    return e ? e->value : NULL;
}

static void grow(htable *table)
{
    size_t  new_size = table->size * 2 + 1;
    htable_entry **buckets = xcalloc(new_size, sizeof(htable_entry *));

    for (size_t i = 0; i < table->size; i++) {
        htable_entry *e = table->buckets[i];

        while (e) {
            htable_entry *next = e->next;
            size_t  h = hash_key(e->key, new_size);

            e->next = buckets[h];
            buckets[h] = e;
            e = next;
        }
    }
    free(table->buckets);
    table->buckets = buckets;
    table->size = new_size;
}

void htable_put(htable *table, const char *key, void *value, htable_free_fn free_old)
{
    htable_entry *e = htable_find(table, key);
    size_t  h;

    if (e) {
        if (free_old && e->value != value)
            free_old(e->value);
        e->value = value;
        return;
    }
    if (table->used >= table->size)
        grow(table);
    h = hash_key(key, table->size);
    e = xmalloc(sizeof(*e));
    e->key = xstrdup(key);
    e->value = value;
    e->next = table->buckets[h];
    table->buckets[h] = e;
    table->used++;
}

void htable_delete(htable *table, const char *key, htable_free_fn free_value)
{
    htable_entry **link = &table->buckets[hash_key(key, table->size)];

    for (htable_entry *e = *link; e; link = &e->next, e = e->next) {
        if (strcmp(e->key, key) == 0) {
            *link = e->next;
            if (free_value)
                free_value(e->value);
            free(e->key);
            free(e);
            table->used--;
            return;
        }
    }
}

htable_entry *htable_next(const htable *table, size_t *bucket, htable_entry *prev)
{
    if (prev && prev->next)
        return prev->next;
    if (prev)
        (*bucket)++;
    for (; *bucket < table->size; (*bucket)++)
        if (table->buckets[*bucket])
            return table->buckets[*bucket];
    return NULL;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

argv_t *htable_keys(const htable *table)
{
    argv_t *keys = argv_new(table->used);
    size_t  bucket = 0;

    for (htable_entry *e = NULL; (e = htable_next(table, &bucket, e)) != NULL;)
        argv_add(keys, e->key);
    qsort(keys->items, keys->count, sizeof(char *), compare_strings);
    return keys;
}

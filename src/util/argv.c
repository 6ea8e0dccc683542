/*
 * argv - a growable, NULL-terminated array of owned strings. See argv.h.
 */
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "mem.h"

argv_t *argv_new(size_t initial)
{
    argv_t *list = xmalloc(sizeof(*list));

    list->cap = initial < 4 ? 4 : initial;
    list->items = xreallocarray(NULL, list->cap + 1, sizeof(char *));
    list->count = 0;
    list->items[0] = NULL;
    return list;
}

void argv_free(argv_t *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    free(list);
}

void argv_add_owned(argv_t *list, char *item)
{
    if (list->count == list->cap) {
        list->cap *= 2;
        list->items = xreallocarray(list->items, list->cap + 1, sizeof(char *));
    }
    list->items[list->count++] = item;
    list->items[list->count] = NULL;
}

void argv_add(argv_t *list, const char *item)
{
    argv_add_owned(list, xstrdup(item));
}

void argv_add_mem(argv_t *list, const char *item, size_t len)
{
    argv_add_owned(list, xstrndup(item, len));
}

void argv_insert(argv_t *list, size_t where, const char *item)
{
    if (where > list->count)
        where = list->count;
    argv_add_owned(list, NULL);
    memmove(list->items + where + 1, list->items + where,
            (list->count - 1 - where) * sizeof(char *));
    list->items[where] = xstrdup(item);
}

void argv_truncate(argv_t *list, size_t count)
{
    while (list->count > count)
        free(list->items[--list->count]);
    list->items[list->count] = NULL;
}

argv_t *argv_split(const char *text, const char *delimiters)
{
    argv_t *list = argv_new(4);

    while (*text) {
        size_t skip = strspn(text, delimiters);
        size_t len;

        text += skip;
        if (*text == 0)
            break;
        len = strcspn(text, delimiters);
        argv_add_mem(list, text, len);
        text += len;
    }
    return list;
}

argv_t *argv_copy(const argv_t *list)
{
    argv_t *copy = argv_new(list->count);

    for (size_t i = 0; i < list->count; i++)
        argv_add(copy, list->items[i]);
    return copy;
}

int argv_contains(const argv_t *list, const char *item)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i], item) == 0)
            return 1;
    return 0;
}

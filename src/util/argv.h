/*
 * argv - a growable, NULL-terminated array of owned strings.
 *
 * argv_add() copies its argument; argv_free() releases the strings and the
 * array. list->items[list->count] is always NULL, so items can go to execv().
 * argv_split() splits on any of the delimiter characters, skipping empty
 * fields (Postfix list syntax: "a, b c" with delimiters ", \t\r\n").
 */
#ifndef POSTERN_ARGV_H
#define POSTERN_ARGV_H

#include <stddef.h>

typedef struct argv {
    char  **items;
    size_t  count;
    size_t  cap;
} argv_t;

#define ARGV_LIST_DELIMITERS ", \t\r\n"

argv_t *argv_new(size_t initial);
void    argv_free(argv_t *list);
void    argv_add(argv_t *list, const char *item);
void    argv_add_mem(argv_t *list, const char *item, size_t len);
void    argv_add_owned(argv_t *list, char *item);
void    argv_insert(argv_t *list, size_t where, const char *item);
void    argv_truncate(argv_t *list, size_t count);
argv_t *argv_split(const char *text, const char *delimiters);
argv_t *argv_copy(const argv_t *list);
int     argv_contains(const argv_t *list, const char *item);

#endif

/*
 * mem - allocation that never returns NULL.
 *
 * Every allocation in Postern goes through these wrappers. On exhaustion they
 * log a fatal message and exit; callers never check for NULL. Memory is
 * released with free(). Overflowing size computations are fatal too.
 */
#ifndef POSTERN_MEM_H
#define POSTERN_MEM_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xreallocarray(void *ptr, size_t count, size_t size);
char *xstrdup(const char *text);
char *xstrndup(const char *text, size_t len);
void *xmemdup(const void *data, size_t len);

#endif

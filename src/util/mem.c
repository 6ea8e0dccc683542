/*
 * mem - allocation that never returns NULL. See mem.h.
 */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include "mem.h"
#include "msg.h"

static void *check(void *ptr, size_t size)
{
    if (ptr == NULL && size != 0)
        msg_fatal("out of memory allocating %zu bytes", size);
    return ptr;
}

void *xmalloc(size_t size)
{
    return check(malloc(size ? size : 1), size ? size : 1);
}

void *xcalloc(size_t count, size_t size)
{
    if (count == 0 || size == 0)
        count = size = 1;
    if (count > SIZE_MAX / size)
        msg_panic("xcalloc: size overflow (%zu x %zu)", count, size);
    return check(calloc(count, size), count * size);
}

void *xrealloc(void *ptr, size_t size)
{
    return check(realloc(ptr, size ? size : 1), size ? size : 1);
}

void *xreallocarray(void *ptr, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        msg_panic("xreallocarray: size overflow (%zu x %zu)", count, size);
    return xrealloc(ptr, count * size);
}

char *xstrdup(const char *text)
{
    return xmemdup(text, strlen(text) + 1);
}

char *xstrndup(const char *text, size_t len)
{
    size_t actual = strnlen(text, len);
    char *copy = xmalloc(actual + 1);

    memcpy(copy, text, actual);
    copy[actual] = 0;
    return copy;
}

void *xmemdup(const void *data, size_t len)
{
    void *copy = xmalloc(len);

    if (len)
        memcpy(copy, data, len);
    return copy;
}

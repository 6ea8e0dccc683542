/*
 * strbuf - the one counted, growable, binary-safe string type. See strbuf.h.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "msg.h"
#include "strbuf.h"

strbuf *strbuf_new(size_t initial)
{
    strbuf *sb = xmalloc(sizeof(*sb));

    sb->cap = initial < 16 ? 16 : initial + 1;
    sb->data = xmalloc(sb->cap);
    sb->len = 0;
    sb->data[0] = 0;
    return sb;
}

strbuf *strbuf_from(const char *text)
{
    strbuf *sb = strbuf_new(strlen(text));

    strbuf_append_str(sb, text);
    return sb;
}

void strbuf_free(strbuf *sb)
{
    if (sb) {
        free(sb->data);
        free(sb);
    }
}

char *strbuf_steal(strbuf *sb)
{
    char *data = sb->data;

    free(sb);
    return data;
}

void strbuf_reserve(strbuf *sb, size_t extra)
{
    size_t need;

    if (extra > SIZE_MAX - sb->len - 1)
        msg_panic("strbuf_reserve: length overflow");
    need = sb->len + extra + 1;
    if (need <= sb->cap)
        return;
    while (sb->cap < need)
        sb->cap = sb->cap > SIZE_MAX / 2 ? need : sb->cap * 2;
    sb->data = xrealloc(sb->data, sb->cap);
}

void strbuf_reset(strbuf *sb)
{
    sb->len = 0;
    sb->data[0] = 0;
}

void strbuf_truncate(strbuf *sb, size_t len)
{
    if (len < sb->len) {
        sb->len = len;
        sb->data[len] = 0;
    }
}

void strbuf_append(strbuf *sb, const void *data, size_t len)
{
    strbuf_reserve(sb, len);
    if (len)
        memcpy(sb->data + sb->len, data, len);
    sb->len += len;
    sb->data[sb->len] = 0;
}

void strbuf_set_mem(strbuf *sb, const void *data, size_t len)
{
    strbuf_reset(sb);
    strbuf_append(sb, data, len);
}

void strbuf_set(strbuf *sb, const char *text)
{
    strbuf_set_mem(sb, text, strlen(text));
}

void strbuf_append_str(strbuf *sb, const char *text)
{
    strbuf_append(sb, text, strlen(text));
}

void strbuf_append_char(strbuf *sb, int ch)
{
    strbuf_reserve(sb, 1);
    sb->data[sb->len++] = (char) ch;
    sb->data[sb->len] = 0;
}

void strbuf_append_vprintf(strbuf *sb, const char *fmt, va_list ap)
{
    va_list copy;
    int     need;

    va_copy(copy, ap);
    need = vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, copy);
    va_end(copy);
    if (need < 0)
        msg_panic("strbuf_append_vprintf: bad format \"%s\"", fmt);
    if ((size_t) need >= sb->cap - sb->len) {
        strbuf_reserve(sb, (size_t) need);
        vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
    }
    sb->len += (size_t) need;
}

void strbuf_append_printf(strbuf *sb, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    strbuf_append_vprintf(sb, fmt, ap);
    va_end(ap);
}

void strbuf_printf(strbuf *sb, const char *fmt, ...)
{
    va_list ap;

    strbuf_reset(sb);
    va_start(ap, fmt);
    strbuf_append_vprintf(sb, fmt, ap);
    va_end(ap);
}

void strbuf_lowercase(strbuf *sb)
{
    for (size_t i = 0; i < sb->len; i++)
        sb->data[i] = (char) tolower((unsigned char) sb->data[i]);
}

int strbuf_is_clean_text(const strbuf *sb)
{
    for (size_t i = 0; i < sb->len; i++) {
        unsigned char ch = (unsigned char) sb->data[i];

        if (ch < 0x20 || ch == 0x7f)
            return 0;
    }
    return 1;
}

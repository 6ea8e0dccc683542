/*
 * strbuf - the one counted, growable, binary-safe string type.
 *
 * A strbuf owns its storage. data[len] is always a NUL byte, so data can be
 * passed to C string functions when the content holds no NUL; len is the
 * authoritative length. All mutators grow the buffer as needed (never
 * failing: allocation goes through mem.h) and keep the terminator.
 *
 * Read sb->data and sb->len directly; change them only through these
 * functions. strbuf_steal() hands the storage to the caller and frees the
 * strbuf itself.
 */
#ifndef POSTERN_STRBUF_H
#define POSTERN_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct strbuf {
    char   *data;
    size_t  len;
    size_t  cap;                        /* allocated bytes, terminator included */
} strbuf;

strbuf *strbuf_new(size_t initial);
strbuf *strbuf_from(const char *text);
void    strbuf_free(strbuf *sb);
char   *strbuf_steal(strbuf *sb);

void strbuf_reset(strbuf *sb);
void strbuf_truncate(strbuf *sb, size_t len);
void strbuf_reserve(strbuf *sb, size_t extra);
void strbuf_set(strbuf *sb, const char *text);
void strbuf_set_mem(strbuf *sb, const void *data, size_t len);
void strbuf_append(strbuf *sb, const void *data, size_t len);
void strbuf_append_str(strbuf *sb, const char *text);
void strbuf_append_char(strbuf *sb, int ch);
void strbuf_printf(strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void strbuf_append_printf(strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void strbuf_append_vprintf(strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void strbuf_lowercase(strbuf *sb);
/* 1 when no byte is a control character (below 0x20, or DEL): NUL, CR, LF, TAB... */
int  strbuf_is_clean_text(const strbuf *sb);

static inline int strbuf_last(const strbuf *sb)
{
    return sb->len ? (unsigned char) sb->data[sb->len - 1] : -1;
}

#endif

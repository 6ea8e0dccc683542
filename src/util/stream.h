/*
 * stream - buffered I/O on a descriptor, with timeouts and bounded lines.
 *
 * One stream type serves sockets, pipes and files. Reads and writes are
 * buffered; every blocking operation waits at most the stream's timeout
 * (seconds, 0 = forever) and then fails with the timeout flag set. The I/O
 * functions can be replaced (stream_set_io) so TLS slots in underneath
 * without callers noticing.
 *
 * Errors are sticky: after EOF, an I/O error or a timeout, the operation
 * returns a failure and stream_status() tells which; stream_clear_status()
 * resets it. stream_close() flushes, closes the descriptor and frees the
 * stream; stream_release() frees the stream but leaves the descriptor open.
 *
 * stream_peek() returns the next byte without consuming it (-1 at EOF or
 * error). stream_get_line() reads up to and including '\n' into a strbuf, at most
 * `limit` bytes; the newline is stored, so a caller can tell a complete line
 * ("...\n"), an overlong one (limit reached, more follows) and a last line
 * without newline. Memory stays bounded by `limit` whatever the peer sends.
 */
#ifndef POSTERN_STREAM_H
#define POSTERN_STREAM_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include "strbuf.h"

typedef ssize_t (*stream_io_fn)(int fd, void *buf, size_t len, int timeout, void *context);

#define STREAM_EOF_FLAG      (1 << 0)
#define STREAM_ERROR_FLAG    (1 << 1)
#define STREAM_TIMEOUT_FLAG  (1 << 2)

typedef struct stream {
    int     fd;
    int     timeout;                    /* seconds; 0 = wait forever */
    int     status;                     /* STREAM_*_FLAG bits */
    unsigned char *rbuf;
    size_t  rpos, rlen, rcap;
    unsigned char *wbuf;
    size_t  wlen, wcap;
    off_t   fd_offset;                  /* descriptor position, for files */
    int     seekable;                   /* 0 unknown, 1 file, -1 socket or pipe */
    stream_io_fn read_fn;
    stream_io_fn write_fn;
    void   *io_context;
} stream;

enum stream_line {
    STREAM_LINE_COMPLETE,               /* ends in '\n' */
    STREAM_LINE_TOO_LONG,               /* limit reached; rest still unread */
    STREAM_LINE_LAST,                   /* EOF after some bytes, no '\n' */
    STREAM_LINE_NONE,                   /* EOF, error or timeout; nothing read */
};

stream *stream_open_fd(int fd, int timeout);
int     stream_close(stream *s);
void    stream_release(stream *s);
void    stream_set_timeout(stream *s, int timeout);
void    stream_set_io(stream *s, stream_io_fn read_fn, stream_io_fn write_fn, void *context);

int     stream_getc(stream *s);
int     stream_peek(stream *s);
size_t  stream_read(stream *s, void *buf, size_t len);
enum stream_line stream_get_line(stream *s, strbuf *line, size_t limit);
size_t  stream_pending(const stream *s);
void    stream_drop_input(stream *s);
int     stream_input_waiting(stream *s);

int     stream_write(stream *s, const void *data, size_t len);
int     stream_puts(stream *s, const char *text);
int     stream_putc(stream *s, int ch);
int     stream_printf(stream *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int     stream_vprintf(stream *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
int     stream_flush(stream *s);

off_t   stream_seek(stream *s, off_t offset, int whence);
off_t   stream_tell(const stream *s);

static inline int stream_status(const stream *s) { return s->status; }
static inline void stream_clear_status(stream *s) { s->status = 0; }
static inline int stream_timed_out(const stream *s)
{
    return (s->status & STREAM_TIMEOUT_FLAG) != 0;
}

/* Wait until fd is readable (events POLLIN) or writable; 0 ok, -1 timeout/error. */
int     fd_wait(int fd, int events, int timeout);

#endif

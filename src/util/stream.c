/*
 * stream - buffered I/O with timeouts and bounded lines. See stream.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mem.h"
#include "msg.h"
#include "stream.h"

#define STREAM_BUFSIZE  (64 * 1024)

int fd_wait(int fd, int events, int timeout)
{
    struct pollfd pfd = {.fd = fd,.events = (short) events };
    int     n;

    if (timeout <= 0)
        return 0;
    do {
        n = poll(&pfd, 1, timeout * 1000);
    } while (n < 0 && errno == EINTR);
    if (n == 0)
        errno = ETIMEDOUT;
    return n > 0 ? 0 : -1;
}

static ssize_t plain_read(int fd, void *buf, size_t len, int timeout, void *context)
{
    ssize_t n;

    (void) context;
    if (fd_wait(fd, POLLIN, timeout) < 0)
        return -1;
    do {
        n = read(fd, buf, len);
    } while (n < 0 && errno == EINTR);
    return n;
}

/*
 * A socket is first written without waiting (MSG_DONTWAIT): it nearly
 * always has room, and the poll() that guards the timeout is then saved.
 * Only when it is full does the write wait. MSG_NOSIGNAL: a peer that went
 * away is EPIPE, never SIGPIPE, in daemons and commands alike. -1 with
 * ENOTSOCK for pipes and files.
 */
static ssize_t socket_write(int fd, void *buf, size_t len, int timeout)
{
    int     flags = MSG_DONTWAIT | MSG_NOSIGNAL;
    ssize_t n;

    for (;;) {
        if ((n = send(fd, buf, len, flags)) >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if ((errno != EAGAIN && errno != EWOULDBLOCK) || !(flags & MSG_DONTWAIT)
            || fd_wait(fd, POLLOUT, timeout) < 0)
            return -1;
        flags = MSG_NOSIGNAL;
    }
}

static ssize_t plain_write(int fd, void *buf, size_t len, int timeout, void *context)
{
    ssize_t n;

    (void) context;
    if (timeout > 0 && ((n = socket_write(fd, buf, len, timeout)) >= 0 || errno != ENOTSOCK))
        return n;
    if (fd_wait(fd, POLLOUT, timeout) < 0)
        return -1;
    do {
        n = write(fd, buf, len);
    } while (n < 0 && errno == EINTR);
    return n;
}

stream *stream_open_fd(int fd, int timeout)
{
    stream *s = xcalloc(1, sizeof(*s));

    s->fd = fd;
    s->timeout = timeout;
    s->read_fn = plain_read;
    s->write_fn = plain_write;
    return s;
}

void stream_set_timeout(stream *s, int timeout)
{
    s->timeout = timeout;
}

void stream_set_io(stream *s, stream_io_fn read_fn, stream_io_fn write_fn, void *context)
{
    s->read_fn = read_fn;
    s->write_fn = write_fn;
    s->io_context = context;
}

void stream_release(stream *s)
{
    if (s == NULL)
        return;
    free(s->rbuf);
    free(s->wbuf);
    free(s);
}

int stream_close(stream *s)
{
    int     result = stream_flush(s);

    if (close(s->fd) < 0)
        result = -1;
    stream_release(s);
    return result;
}

/* Refill an empty read buffer; returns bytes available, 0 on EOF/error. */
static size_t fill(stream *s)
{
    ssize_t n;

    if (s->rpos < s->rlen)
        return s->rlen - s->rpos;
    if (s->status)
        return 0;
    if (s->wlen && stream_flush(s) < 0)
        return 0;
    if (s->rbuf == NULL) {
        s->rcap = STREAM_BUFSIZE;
        s->rbuf = xmalloc(s->rcap);
    }
    s->rpos = s->rlen = 0;
    n = s->read_fn(s->fd, s->rbuf, s->rcap, s->timeout, s->io_context);
    if (n == 0) {
        s->status |= STREAM_EOF_FLAG;
        return 0;
    }
    if (n < 0) {
        s->status |= errno == ETIMEDOUT ? STREAM_TIMEOUT_FLAG : STREAM_ERROR_FLAG;
        return 0;
    }
    s->rlen = (size_t) n;
    s->fd_offset += n;
    return s->rlen;
}

int stream_getc(stream *s)
{
    if (fill(s) == 0)
        return -1;
    return s->rbuf[s->rpos++];
}

int stream_peek(stream *s)
{
    if (fill(s) == 0)
        return -1;
    return s->rbuf[s->rpos];
}

size_t stream_read(stream *s, void *buf, size_t len)
{
    size_t  done = 0;

    while (done < len) {
        size_t  avail = fill(s);
        size_t  chunk;

        if (avail == 0)
            break;
        chunk = avail < len - done ? avail : len - done;
        memcpy((char *) buf + done, s->rbuf + s->rpos, chunk);
        s->rpos += chunk;
        done += chunk;
    }
    return done;
}

enum stream_line stream_get_line(stream *s, strbuf *line, size_t limit)
{
    strbuf_reset(line);
    while (line->len < limit) {
        size_t  avail = fill(s);
        size_t  want;
        unsigned char *start;
        unsigned char *nl;

        if (avail == 0)
            return line->len ? STREAM_LINE_LAST : STREAM_LINE_NONE;
        want = limit - line->len;
        if (want > avail)
            want = avail;
        start = s->rbuf + s->rpos;
        nl = memchr(start, '\n', want);
        if (nl)
            want = (size_t) (nl - start) + 1;
        strbuf_append(line, start, want);
        s->rpos += want;
        if (nl)
            return STREAM_LINE_COMPLETE;
    }
    return STREAM_LINE_TOO_LONG;
}

size_t stream_pending(const stream *s)
{
    return s->rlen - s->rpos;
}

void stream_drop_input(stream *s)
{
    s->rpos = s->rlen = 0;
}

int stream_input_waiting(stream *s)
{
    struct pollfd pfd = {.fd = s->fd,.events = POLLIN };

    if (stream_pending(s))
        return 1;
    return poll(&pfd, 1, 0) > 0;
}

int stream_flush(stream *s)
{
    size_t  done = 0;

    while (done < s->wlen) {
        ssize_t n;

        if (s->status & (STREAM_ERROR_FLAG | STREAM_TIMEOUT_FLAG))
            break;
        n = s->write_fn(s->fd, s->wbuf + done, s->wlen - done, s->timeout, s->io_context);
        if (n <= 0) {
            s->status |= (n < 0 && errno == ETIMEDOUT) ?
                STREAM_TIMEOUT_FLAG : STREAM_ERROR_FLAG;
            break;
        }
        done += (size_t) n;
        s->fd_offset += n;
    }
    if (done < s->wlen) {
        s->wlen = 0;
        return -1;
    }
    s->wlen = 0;
    return 0;
}

/* A file has one position for reading and writing; a socket or pipe has not. */
static int descriptor_seekable(stream *s)
{
    if (s->seekable == 0)
        s->seekable = lseek(s->fd, 0, SEEK_CUR) < 0 ? -1 : 1;
    return s->seekable > 0;
}

int stream_write(stream *s, const void *data, size_t len)
{
    const unsigned char *cp = data;

    if (s->status & (STREAM_ERROR_FLAG | STREAM_TIMEOUT_FLAG))
        return -1;
    if (s->rpos < s->rlen && descriptor_seekable(s) && stream_seek(s, 0, SEEK_CUR) < 0)
        return -1;
    if (s->wbuf == NULL) {
        s->wcap = STREAM_BUFSIZE;
        s->wbuf = xmalloc(s->wcap);
    }
    while (len > 0) {
        size_t  chunk = s->wcap - s->wlen;

        if (chunk == 0) {
            if (stream_flush(s) < 0)
                return -1;
            continue;
        }
        if (chunk > len)
            chunk = len;
        memcpy(s->wbuf + s->wlen, cp, chunk);
        s->wlen += chunk;
        cp += chunk;
        len -= chunk;
    }
    return 0;
}

int stream_puts(stream *s, const char *text)
{
    return stream_write(s, text, strlen(text));
}

int stream_putc(stream *s, int ch)
{
    unsigned char byte = (unsigned char) ch;

    return stream_write(s, &byte, 1);
}

int stream_vprintf(stream *s, const char *fmt, va_list ap)
{
    strbuf *text = strbuf_new(256);
    int     result;

    strbuf_append_vprintf(text, fmt, ap);
    result = stream_write(s, text->data, text->len);
    strbuf_free(text);
    return result;
}

int stream_printf(stream *s, const char *fmt, ...)
{
    va_list ap;
    int     result;

    va_start(ap, fmt);
    result = stream_vprintf(s, fmt, ap);
    va_end(ap);
    return result;
}

off_t stream_tell(const stream *s)
{
    return s->fd_offset - (off_t) (s->rlen - s->rpos) + (off_t) s->wlen;
}

off_t stream_seek(stream *s, off_t offset, int whence)
{
    off_t   result;

    if (whence == SEEK_CUR) {
        offset += stream_tell(s);
        whence = SEEK_SET;
    }
    if (s->wlen && stream_flush(s) < 0)
        return -1;
    s->rpos = s->rlen = 0;
    if ((result = lseek(s->fd, offset, whence)) < 0)
        return -1;
    s->fd_offset = result;
    s->status &= ~STREAM_EOF_FLAG;
    return result;
}

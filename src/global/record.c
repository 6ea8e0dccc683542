/*
 * record - queue file records. See record.h and docs/queue-file.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "record.h"

int rec_type_valid(int type)
{
    return type > 0 && strchr("VTWASFOQNRDMLCXE", type) != NULL;
}

size_t rec_header_size(size_t len)
{
    size_t  size = 2;

    while (len >= 0x80) {
        len >>= 7;
        size++;
    }
    return size;
}

int rec_put(stream *s, int type, const void *data, size_t len)
{
    unsigned char header[6];
    size_t  used = 0;
    size_t  rest = len;

    if (!rec_type_valid(type) || len > REC_DATA_MAX) {
        errno = EINVAL;
        return -1;
    }
    header[used++] = (unsigned char) type;
    while (rest >= 0x80) {
        header[used++] = (unsigned char) ((rest & 0x7f) | 0x80);
        rest >>= 7;
    }
    header[used++] = (unsigned char) rest;
    if (stream_write(s, header, used) < 0)
        return -1;
    return len ? stream_write(s, data, len) : 0;
}

int rec_put_str(stream *s, int type, const char *text)
{
    return rec_put(s, type, text, strlen(text));
}

int rec_printf(stream *s, int type, const char *fmt, ...)
{
    strbuf *text = strbuf_new(128);
    va_list ap;
    int     rc;

    va_start(ap, fmt);
    strbuf_append_vprintf(text, fmt, ap);
    va_end(ap);
    rc = rec_put(s, type, text->data, text->len);
    strbuf_free(text);
    return rc;
}

static int read_failure(const stream *s)
{
    return (stream_status(s) & (STREAM_ERROR_FLAG | STREAM_TIMEOUT_FLAG)) ?
        REC_IO_ERROR : REC_TRUNCATED;
}

static int read_length(stream *s, size_t *len)
{
    size_t  value = 0;

    for (int i = 0; i < 4; i++) {
        int     byte = stream_getc(s);

        if (byte < 0)
            return read_failure(s);
        value |= (size_t) (byte & 0x7f) << (7 * i);
        if (!(byte & 0x80)) {
            if (byte == 0 && i > 0)
                return REC_BAD_LENGTH;  /* non-minimal */
            *len = value;
            return 0;
        }
    }
    return REC_BAD_LENGTH;
}

int rec_get(stream *s, strbuf *data, size_t limit)
{
    int     type = stream_getc(s);
    size_t  len;
    int     rc;

    strbuf_reset(data);
    if (type < 0)
        return (stream_status(s) & (STREAM_ERROR_FLAG | STREAM_TIMEOUT_FLAG)) ?
            REC_IO_ERROR : REC_EOF;
    if (!rec_type_valid(type))
        return REC_BAD_TYPE;
    if ((rc = read_length(s, &len)) < 0)
        return rc;
    if (len > limit || len > REC_DATA_MAX)
        return REC_TOO_LONG;
    strbuf_reserve(data, len);
    if (stream_read(s, data->data, len) != len)
        return read_failure(s);
    data->len = len;
    data->data[len] = 0;
    return type;
}

const char *rec_strerror(int code)
{
    switch (code) {
    case REC_EOF: return "premature end of file";
    case REC_TRUNCATED: return "truncated record";
    case REC_BAD_LENGTH: return "bad record length";
    case REC_TOO_LONG: return "record too long";
    case REC_BAD_TYPE: return "bad record type";
    case REC_IO_ERROR: return "read error";
    default: return "unexpected record";
    }
}

int rec_mark_done(int fd, off_t offset)
{
    char    type;

    if (pread(fd, &type, 1, offset) != 1)
        return -1;
    if (type == REC_TYPE_DONE)
        return 0;
    if (type != REC_TYPE_RCPT) {
        errno = EINVAL;
        return -1;
    }
    type = REC_TYPE_DONE;
    return pwrite(fd, &type, 1, offset) == 1 ? 0 : -1;
}

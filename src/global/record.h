/*
 * record - the record format of queue files, maildrop files and the
 * message stream sent to cleanup (docs/queue-file.md).
 *
 * A record is a type byte, the data length as an LEB128 varint (at most 4
 * bytes, minimal encoding) and the data. rec_put() and friends buffer on a
 * stream (errors are sticky in the stream). rec_get() reads one record into
 * a strbuf and returns its type, or a negative REC_* code: clean end of
 * input before a type byte (REC_EOF), or a damaged record; rec_strerror()
 * names the damage. The reader never allocates more than `limit` bytes.
 *
 * rec_mark_done() overwrites the type byte of the recipient record at
 * `offset` with 'D' after checking it is an 'R'.
 */
#ifndef POSTERN_RECORD_H
#define POSTERN_RECORD_H

#include <stddef.h>
#include <sys/types.h>

#include "stream.h"
#include "strbuf.h"

#define REC_TYPE_VERSION    'V'
#define REC_TYPE_TIME       'T'
#define REC_TYPE_WARN       'W'
#define REC_TYPE_ATTR       'A'
#define REC_TYPE_SENDER     'S'
#define REC_TYPE_FULLNAME   'F'
#define REC_TYPE_ORIG_RCPT  'O'
#define REC_TYPE_DSN_ORCPT  'Q'
#define REC_TYPE_DSN_NOTIFY 'N'
#define REC_TYPE_RCPT       'R'
#define REC_TYPE_DONE       'D'
#define REC_TYPE_MESSAGE    'M'
#define REC_TYPE_LINE       'L'
#define REC_TYPE_PARTIAL    'C'
#define REC_TYPE_EXTRACTED  'X'
#define REC_TYPE_END        'E'

#define REC_DATA_MAX        (1024 * 1024)

enum rec_error {
    REC_EOF = -1,                       /* end of input before a record */
    REC_TRUNCATED = -2,                 /* input ends inside a record */
    REC_BAD_LENGTH = -3,                /* overlong or non-minimal length */
    REC_TOO_LONG = -4,                  /* longer than the caller's limit */
    REC_BAD_TYPE = -5,                  /* not a record type */
    REC_IO_ERROR = -6,                  /* read error or timeout */
};

int rec_put(stream *s, int type, const void *data, size_t len);
int rec_put_str(stream *s, int type, const char *text);
int rec_printf(stream *s, int type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int rec_get(stream *s, strbuf *data, size_t limit);
int rec_type_valid(int type);
const char *rec_strerror(int code);
size_t rec_header_size(size_t len);
int rec_mark_done(int fd, off_t offset);

#endif

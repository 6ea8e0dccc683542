/*
 * queue_envelope - read and check a queue file's envelope.
 *
 * queue_envelope_read() reads the records before the content and, after
 * seeking to the X record, the extracted section up to E, and checks the
 * layout of docs/queue-file.md: record order, the V record's offsets, one
 * T and one S, recipient groups (O/Q/N apply to the next R), no control
 * characters in addresses or attributes, nothing after E. With
 * QUEUE_READ_CONTENT it also walks the content (only L and C records, sizes
 * consistent). Any violation fails with the reason in `why`; the caller moves
 * the file to corrupt/. The envelope owns every string in it;
 * queue_envelope_free() releases them.
 *
 * queue_content_start() positions a stream at the first content record and
 * queue_content_next() returns the next L or C record (data in `data`), or
 * REC_TYPE_EXTRACTED at the end of the content, or a negative record error.
 */
#ifndef POSTERN_QUEUE_ENVELOPE_H
#define POSTERN_QUEUE_ENVELOPE_H

#include <sys/time.h>
#include <sys/types.h>

#include "dsn.h"
#include "htable.h"
#include "queue_file.h"
#include "stream.h"
#include "strbuf.h"

#define QUEUE_READ_CONTENT  (1 << 0)


typedef struct queue_recipient {
    char   *address;
    char   *orig_rcpt;                  /* "" when none */
    char   *dsn_orcpt;                  /* "" when none */
    int     dsn_notify;                 /* 0 when none */
    off_t   offset;                     /* of the R/D record's type byte */
    int     done;
} queue_recipient;

typedef struct queue_envelope {
    queue_sizes sizes;
    struct timeval arrival;
    long    warn_time;
    off_t   warn_offset;                /* of the W record, for rewriting */
    char   *sender;
    char   *fullname;                   /* NULL when none */
    htable *attributes;                 /* name -> char * */
    queue_recipient *recipients;
    size_t  recipient_count;
    size_t  recipient_cap;
} queue_envelope;

int     queue_envelope_read(stream *s, queue_envelope *env, int flags, strbuf *why);
void    queue_envelope_free(queue_envelope *env);
const char *queue_envelope_attr(const queue_envelope *env, const char *name);
size_t  queue_envelope_pending(const queue_envelope *env);

int     queue_content_start(stream *s, const queue_envelope *env);
int     queue_content_next(stream *s, strbuf *data);

#endif

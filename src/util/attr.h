/*
 * attr - the one framing every pair of Postern processes uses.
 *
 * A frame is a sequence of named attributes followed by a terminator:
 *
 *     name=LENGTH:VALUE\n      one attribute; LENGTH is decimal, VALUE is
 *     ...                      exactly LENGTH bytes (binary-safe)
 *     \n                       end of frame
 *
 * Names are 1-63 characters from [a-z0-9_]. Integers travel as decimal text.
 * A request is one frame, its reply another; lists are sent as a count
 * followed by that many frames. docs/protocols.md lists every conversation.
 *
 * Writing: attr_put_*() buffer attributes, attr_end() writes the terminator
 * and flushes (0 ok, -1 I/O error); attr_put_end() writes the terminator
 * only, for a sequence of frames sent with one flush.
 *
 * Reading: attr_scan() reads one frame against a table of typed targets.
 * The ATTR_* macros build the table and check target types at compile time.
 * The reader is strict: a malformed frame, an oversize value, a NUL inside a
 * string, a bad integer, a duplicate, an unknown name (unless
 * ATTR_FLAG_ALLOW_UNKNOWN) or a missing required attribute fails the scan
 * with a warning naming the problem. Result: number of attributes stored,
 * or -1 (stream_status() tells EOF/timeout from a protocol error).
 */
#ifndef POSTERN_ATTR_H
#define POSTERN_ATTR_H

#include <stddef.h>

#include "stream.h"
#include "strbuf.h"

#define ATTR_NAME_MAX     63
#define ATTR_VALUE_MAX    (4 * 1024 * 1024)
#define ATTR_COUNT_MAX    256

enum attr_type { ATTR_TYPE_STR = 1, ATTR_TYPE_DATA, ATTR_TYPE_INT, ATTR_TYPE_LONG };

#define ATTR_OPTIONAL           (1 << 0)        /* per-spec: may be absent */
#define ATTR_FLAG_ALLOW_UNKNOWN (1 << 0)        /* attr_scan flag */

typedef struct attr_spec {
    const char *name;
    enum attr_type type;
    void   *target;
    int     flags;
} attr_spec;

static inline void *attr_check_strbuf(strbuf *target) { return target; }
static inline void *attr_check_int(int *target) { return target; }
static inline void *attr_check_long(long *target) { return target; }

#define ATTR_STR(name, sb)   { (name), ATTR_TYPE_STR, attr_check_strbuf(sb), 0 }
#define ATTR_DATA(name, sb)  { (name), ATTR_TYPE_DATA, attr_check_strbuf(sb), 0 }
#define ATTR_INT(name, ip)   { (name), ATTR_TYPE_INT, attr_check_int(ip), 0 }
#define ATTR_LONG(name, lp)  { (name), ATTR_TYPE_LONG, attr_check_long(lp), 0 }
#define ATTR_OPT_STR(name, sb)  { (name), ATTR_TYPE_STR, attr_check_strbuf(sb), ATTR_OPTIONAL }
#define ATTR_OPT_DATA(name, sb) { (name), ATTR_TYPE_DATA, attr_check_strbuf(sb), ATTR_OPTIONAL }
#define ATTR_OPT_INT(name, ip)  { (name), ATTR_TYPE_INT, attr_check_int(ip), ATTR_OPTIONAL }
#define ATTR_OPT_LONG(name, lp) { (name), ATTR_TYPE_LONG, attr_check_long(lp), ATTR_OPTIONAL }
#define ATTR_END             { NULL, 0, NULL, 0 }

void attr_put_str(stream *s, const char *name, const char *value);
void attr_put_data(stream *s, const char *name, const void *data, size_t len);
void attr_put_int(stream *s, const char *name, long value);
int  attr_end(stream *s);
void attr_put_end(stream *s);

int  attr_scan(stream *s, int flags, const attr_spec *spec);

#endif

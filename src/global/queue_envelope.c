/*
 * queue_envelope - read and check a queue file's envelope. See queue_envelope.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "queue_envelope.h"
#include "record.h"

#define WARN_DATA_LEN  15

typedef struct pending_rcpt {
    char   *orig_rcpt;
    char   *dsn_orcpt;
    int     dsn_notify;
} pending_rcpt;

typedef struct reader {
    stream *s;
    queue_envelope *env;
    strbuf *data;
    strbuf *why;
    pending_rcpt pending;
    int     seen_time;
    int     seen_warn;
} reader;

static int fail(reader *r, const char *fmt, const char *arg)
{
    strbuf_printf(r->why, fmt, arg);
    return -1;
}

static void pending_clear(pending_rcpt *p)
{
    free(p->orig_rcpt);
    free(p->dsn_orcpt);
    memset(p, 0, sizeof(*p));
}

static int add_recipient(reader *r, off_t offset, int done)
{
    queue_envelope *env = r->env;
    queue_recipient *rcpt;

    if (env->recipient_count == env->recipient_cap) {
        env->recipient_cap = env->recipient_cap ? env->recipient_cap * 2 : 8;
        env->recipients = xreallocarray(env->recipients, env->recipient_cap,
                                        sizeof(queue_recipient));
    }
    rcpt = &env->recipients[env->recipient_count++];
    rcpt->address = xstrdup(r->data->data);
    rcpt->orig_rcpt = r->pending.orig_rcpt ? r->pending.orig_rcpt : xstrdup("");
    rcpt->dsn_orcpt = r->pending.dsn_orcpt ? r->pending.dsn_orcpt : xstrdup("");
    rcpt->dsn_notify = r->pending.dsn_notify;
    rcpt->offset = offset;
    rcpt->done = done;
    memset(&r->pending, 0, sizeof(r->pending));
    return 0;
}

static int parse_notify(reader *r)
{
    char   *end;
    long    flags = strtol(r->data->data, &end, 10);

    if (r->data->len == 0 || *end || flags <= 0 || (flags & ~DSN_NOTIFY_ANY)
        || ((flags & DSN_NOTIFY_NEVER) && flags != DSN_NOTIFY_NEVER))
        return fail(r, "bad DSN notify record: \"%s\"", r->data->data);
    r->pending.dsn_notify = (int) flags;
    return 0;
}

static int store_attribute(reader *r)
{
    const char *eq = strchr(r->data->data, '=');
    char   *name;

    if (eq == NULL || eq == r->data->data)
        return fail(r, "bad attribute record: \"%s\"", r->data->data);
    for (const char *cp = r->data->data; cp < eq; cp++)
        if (!islower((unsigned char) *cp) && !isdigit((unsigned char) *cp) && *cp != '_')
            return fail(r, "bad attribute name in \"%s\"", r->data->data);
    name = xstrndup(r->data->data, (size_t) (eq - r->data->data));
    htable_put(r->env->attributes, name, xstrdup(eq + 1), free);
    free(name);
    return 0;
}

/* Handles records allowed in both the envelope and the extracted section. */
static int recipient_record(reader *r, int type, off_t offset)
{
    char  **slot;

    switch (type) {
    case REC_TYPE_ATTR:
        return store_attribute(r);
    case REC_TYPE_ORIG_RCPT:
    case REC_TYPE_DSN_ORCPT:
        slot = type == REC_TYPE_ORIG_RCPT ? &r->pending.orig_rcpt : &r->pending.dsn_orcpt;
        if (*slot)
            return fail(r, "two %s records for one recipient",
                        type == REC_TYPE_ORIG_RCPT ? "original recipient" : "ORCPT");
        *slot = xstrdup(r->data->data);
        return 0;
    case REC_TYPE_DSN_NOTIFY:
        if (r->pending.dsn_notify)
            return fail(r, "two NOTIFY records for one recipient%s", "");
        return parse_notify(r);
    case REC_TYPE_RCPT:
    case REC_TYPE_DONE:
        return add_recipient(r, offset, type == REC_TYPE_DONE);
    }
    return fail(r, "unexpected record type '%s'", (char[]) {(char) type, 0});
}

static int envelope_record(reader *r, int type, off_t offset)
{
    char   *end;

    switch (type) {
    case REC_TYPE_TIME:
        if (r->seen_time++)
            return fail(r, "duplicate arrival time record%s", "");
        r->env->arrival.tv_sec = strtol(r->data->data, &end, 10);
        if (*end != '.' || !isdigit((unsigned char) end[1]) || r->env->arrival.tv_sec < 0)
            return fail(r, "bad arrival time: \"%s\"", r->data->data);
        r->env->arrival.tv_usec = strtol(end + 1, &end, 10);
        if (*end || r->env->arrival.tv_usec < 0 || r->env->arrival.tv_usec > 999999)
            return fail(r, "bad arrival time: \"%s\"", r->data->data);
        return 0;
    case REC_TYPE_WARN:
        if (r->seen_warn++ || r->data->len != WARN_DATA_LEN)
            return fail(r, "bad delay warning record%s", "");
        r->env->warn_time = strtol(r->data->data, &end, 10);
        if (*end || r->env->warn_time < 0)
            return fail(r, "bad delay warning time: \"%s\"", r->data->data);
        r->env->warn_offset = offset;
        return 0;
    case REC_TYPE_SENDER:
        if (r->env->sender)
            return fail(r, "duplicate sender record%s", "");
        r->env->sender = xstrdup(r->data->data);
        return 0;
    case REC_TYPE_FULLNAME:
        if (r->env->fullname)
            return fail(r, "duplicate full name record%s", "");
        r->env->fullname = xstrdup(r->data->data);
        return 0;
    }
    if ((type == REC_TYPE_RCPT || type == REC_TYPE_DONE) && r->env->sender == NULL)
        return fail(r, "recipient before sender%s", "");
    return recipient_record(r, type, offset);
}

/* Reads one record; returns its type or -1 with the reason set. */
static int next_record(reader *r, off_t *offset)
{
    int     type;

    *offset = stream_tell(r->s);
    type = rec_get(r->s, r->data, REC_DATA_MAX);
    if (type < 0)
        return fail(r, "%s", rec_strerror(type));
    if (type != REC_TYPE_LINE && type != REC_TYPE_PARTIAL && !strbuf_is_clean_text(r->data))
        return fail(r, "control character in '%s' record", (char[]) {(char) type, 0});
    return type;
}

static int read_envelope(reader *r)
{
    off_t   offset;
    int     type;

    for (;;) {
        if ((type = next_record(r, &offset)) < 0)
            return -1;
        if (type == REC_TYPE_MESSAGE)
            break;
        if (envelope_record(r, type, offset) < 0)
            return -1;
    }
    if (offset != r->env->sizes.content_offset)
        return fail(r, "content offset mismatch%s", "");
    if (!r->seen_time || r->env->sender == NULL)
        return fail(r, "missing %s record", r->seen_time ? "sender" : "arrival time");
    if (r->pending.orig_rcpt || r->pending.dsn_orcpt || r->pending.dsn_notify)
        return fail(r, "recipient attributes without recipient%s", "");
    return 0;
}

static int walk_content(reader *r)
{
    long    size = 0;
    off_t   offset;
    int     type;

    while ((type = next_record(r, &offset)) == REC_TYPE_LINE || type == REC_TYPE_PARTIAL)
        size += (long) r->data->len + (type == REC_TYPE_LINE);
    if (type != REC_TYPE_EXTRACTED)
        return type < 0 ? -1 : fail(r, "unexpected record in content%s", "");
    if (offset != r->env->sizes.extracted_offset || size != r->env->sizes.message_size)
        return fail(r, "content size mismatch%s", "");
    return 0;
}

static int read_extracted(reader *r, int flags)
{
    off_t   offset;
    int     type;

    if (flags & QUEUE_READ_CONTENT) {
        if (walk_content(r) < 0)
            return -1;
    } else if (stream_seek(r->s, r->env->sizes.extracted_offset, SEEK_SET) < 0
               || next_record(r, &offset) != REC_TYPE_EXTRACTED) {
        return fail(r, "no extracted section at the recorded offset%s", "");
    }
    while ((type = next_record(r, &offset)) != REC_TYPE_END) {
        if (type < 0 || recipient_record(r, type, offset) < 0)
            return -1;
    }
    if (r->pending.orig_rcpt || r->pending.dsn_orcpt || r->pending.dsn_notify)
        return fail(r, "recipient attributes without recipient%s", "");
    if (stream_getc(r->s) >= 0)
        return fail(r, "data after the end record%s", "");
    return 0;
}

static int read_sizes(reader *r)
{
    off_t   offset;
    queue_sizes *sz = &r->env->sizes;

    if (next_record(r, &offset) != REC_TYPE_VERSION || queue_parse_sizes(r->data, sz) < 0)
        return fail(r, "bad or missing version record%s", "");
    if (sz->content_offset <= 0 || sz->extracted_offset <= sz->content_offset
        || sz->body_offset < sz->content_offset || sz->body_offset > sz->extracted_offset
        || sz->message_size < 0)
        return fail(r, "inconsistent offsets in version record%s", "");
    return 0;
}

int queue_envelope_read(stream *s, queue_envelope *env, int flags, strbuf *why)
{
    reader  r = {.s = s,.env = env,.data = strbuf_new(256),.why = why };
    int     rc;

    memset(env, 0, sizeof(*env));
    env->attributes = htable_new(16);
    rc = stream_seek(s, 0, SEEK_SET) < 0 ? fail(&r, "cannot seek%s", "") : read_sizes(&r);
    if (rc == 0)
        rc = read_envelope(&r);
    if (rc == 0)
        rc = read_extracted(&r, flags);
    pending_clear(&r.pending);
    strbuf_free(r.data);
    if (rc < 0) {
        queue_envelope_free(env);
        memset(env, 0, sizeof(*env));
    }
    return rc;
}

void queue_envelope_free(queue_envelope *env)
{
    for (size_t i = 0; i < env->recipient_count; i++) {
        free(env->recipients[i].address);
        free(env->recipients[i].orig_rcpt);
        free(env->recipients[i].dsn_orcpt);
    }
    free(env->recipients);
    free(env->sender);
    free(env->fullname);
    htable_free(env->attributes, free);
    memset(env, 0, sizeof(*env));
}

const char *queue_envelope_attr(const queue_envelope *env, const char *name)
{
    return env->attributes ? htable_get(env->attributes, name) : NULL;
}

size_t queue_envelope_pending(const queue_envelope *env)
{
    size_t  count = 0;

    for (size_t i = 0; i < env->recipient_count; i++)
        count += !env->recipients[i].done;
    return count;
}

int queue_content_start(stream *s, const queue_envelope *env)
{
    strbuf *data = strbuf_new(16);
    int     type = -1;

    if (stream_seek(s, env->sizes.content_offset, SEEK_SET) >= 0)
        type = rec_get(s, data, 0);
    strbuf_free(data);
    return type == REC_TYPE_MESSAGE ? 0 : -1;
}

int queue_content_next(stream *s, strbuf *data)
{
    int     type = rec_get(s, data, REC_DATA_MAX);

    if (type == REC_TYPE_LINE || type == REC_TYPE_PARTIAL || type == REC_TYPE_EXTRACTED)
        return type;
    return type < 0 ? type : REC_BAD_TYPE;
}

/*
 * deliver_request - qmgr <-> delivery agent request. See deliver_request.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "deliver_request.h"
#include "mem.h"
#include "msg.h"
#include "queue_file.h"

/* The string attributes of a request, in wire order. */
static const struct {
    const char *name;
    size_t  offset;
} string_fields[] = {
    {"queue_name", offsetof(deliver_request, queue_name)},
    {"queue_id", offsetof(deliver_request, queue_id)},
    {"nexthop", offsetof(deliver_request, nexthop)},
    {"encoding", offsetof(deliver_request, encoding)},
    {"sender", offsetof(deliver_request, sender)},
    {"dsn_envid", offsetof(deliver_request, dsn_envid)},
    {"client_name", offsetof(deliver_request, client_name)},
    {"client_address", offsetof(deliver_request, client_address)},
    {"client_protocol", offsetof(deliver_request, client_protocol)},
    {"client_helo", offsetof(deliver_request, client_helo)},
    {"sasl_username", offsetof(deliver_request, sasl_username)},
    {"log_ident", offsetof(deliver_request, log_ident)},
    {"rewrite_context", offsetof(deliver_request, rewrite_context)},
};

#define STRING_FIELDS (sizeof(string_fields) / sizeof(string_fields[0]))
#define TIME_FIELDS   3

static char **string_slot(deliver_request *req, size_t i)
{
    return (char **) ((char *) req + string_fields[i].offset);
}

void deliver_time_format(strbuf *out, const struct timeval *tv)
{
    strbuf_printf(out, "%ld.%06ld", (long) tv->tv_sec, (long) tv->tv_usec);
}

int deliver_time_parse(const char *text, struct timeval *tv)
{
    char   *end;
    long    sec;
    long    usec;

    if (!isdigit((unsigned char) *text))
        return -1;
    sec = strtol(text, &end, 10);
    if (*end != '.' || !isdigit((unsigned char) end[1]) || strlen(end + 1) != 6)
        return -1;
    usec = strtol(end + 1, &end, 10);
    if (*end || sec < 0)
        return -1;
    tv->tv_sec = sec;
    tv->tv_usec = usec;
    return 0;
}

static int clean(const char *text)
{
    for (const unsigned char *cp = (const unsigned char *) text; *cp; cp++)
        if (*cp < 0x20 || *cp == 0x7f)
            return 0;
    return 1;
}

static int read_recipient(stream *s, deliver_recipient *rcpt)
{
    strbuf *text[3] = {strbuf_new(64), strbuf_new(64), strbuf_new(64)};
    attr_spec spec[] = {
        ATTR_STR("address", text[0]),
        ATTR_STR("orig_rcpt", text[1]),
        ATTR_STR("dsn_orcpt", text[2]),
        ATTR_INT("dsn_notify", &rcpt->dsn_notify),
        ATTR_LONG("offset", &rcpt->offset),
        ATTR_END,
    };
    int     rc = attr_scan(s, 0, spec);

    rcpt->address = strbuf_steal(text[0]);
    rcpt->orig_rcpt = strbuf_steal(text[1]);
    rcpt->dsn_orcpt = strbuf_steal(text[2]);
    if (rc >= 0 && (!clean(rcpt->address) || !clean(rcpt->orig_rcpt)
                    || !clean(rcpt->dsn_orcpt) || rcpt->offset <= 0)) {
        msg_warn("delivery request: bad recipient record");
        rc = -1;
    }
    return rc;
}

/* Reads the main frame; the time texts are returned for parsing. */
static int read_main_frame(stream *s, deliver_request *req, strbuf **times, int *count)
{
    strbuf *text[STRING_FIELDS];
    attr_spec spec[STRING_FIELDS + TIME_FIELDS + 7];
    static const char *const time_names[TIME_FIELDS] = {
        "arrival_time", "active_time", "dispatch_time",
    };
    size_t  n = 0;
    int     rc;

    for (size_t i = 0; i < STRING_FIELDS; i++) {
        text[i] = strbuf_new(32);
        spec[n++] = (attr_spec) ATTR_STR(string_fields[i].name, text[i]);
    }
    for (size_t i = 0; i < TIME_FIELDS; i++)
        spec[n++] = (attr_spec) ATTR_STR(time_names[i], times[i]);
    spec[n++] = (attr_spec) ATTR_INT("flags", &req->flags);
    spec[n++] = (attr_spec) ATTR_LONG("data_offset", &req->data_offset);
    spec[n++] = (attr_spec) ATTR_LONG("data_size", &req->data_size);
    spec[n++] = (attr_spec) ATTR_INT("smtputf8", &req->smtputf8);
    spec[n++] = (attr_spec) ATTR_INT("dsn_ret", &req->dsn_ret);
    spec[n++] = (attr_spec) ATTR_INT("rcpt_count", count);
    spec[n] = (attr_spec) ATTR_END;
    rc = attr_scan(s, 0, spec);
    for (size_t i = 0; i < STRING_FIELDS; i++) {
        *string_slot(req, i) = strbuf_steal(text[i]);
        if (rc >= 0 && !clean(*string_slot(req, i)))
            rc = -1;
    }
    return rc;
}

static int check_request(deliver_request *req, strbuf **times, int count)
{
    if (!queue_id_valid(req->queue_id) || !queue_name_valid(req->queue_name))
        return -1;
    if (count < 1 || count > DELIVER_RCPT_MAX || req->data_offset <= 0 || req->data_size < 0)
        return -1;
    if (deliver_time_parse(times[0]->data, &req->arrival_time) < 0
        || deliver_time_parse(times[1]->data, &req->active_time) < 0
        || deliver_time_parse(times[2]->data, &req->dispatch_time) < 0)
        return -1;
    return 0;
}

deliver_request *deliver_request_read(stream *s)
{
    deliver_request *req = xcalloc(1, sizeof(*req));
    strbuf *times[TIME_FIELDS] = {strbuf_new(24), strbuf_new(24), strbuf_new(24)};
    int     count = 0;
    int     ok;

    attr_put_int(s, "status", 0);
    ok = attr_end(s) == 0 && read_main_frame(s, req, times, &count) >= 0
        && check_request(req, times, count) == 0;
    if (ok) {
        req->rcpt = xcalloc((size_t) count, sizeof(deliver_recipient));
        for (req->rcpt_count = 0; ok && req->rcpt_count < (size_t) count; req->rcpt_count++)
            ok = read_recipient(s, &req->rcpt[req->rcpt_count]) >= 0;
    }
    for (int i = 0; i < TIME_FIELDS; i++)
        strbuf_free(times[i]);
    if (!ok) {
        if (!(stream_status(s) & STREAM_EOF_FLAG) || req->queue_id)
            msg_warn("bad delivery request from the queue manager");
        deliver_request_free(req);
        return NULL;
    }
    gettimeofday(&req->agent_time, NULL);
    return req;
}

void deliver_request_free(deliver_request *req)
{
    if (req == NULL)
        return;
    for (size_t i = 0; i < STRING_FIELDS; i++)
        free(*string_slot(req, i));
    for (size_t i = 0; i < req->rcpt_count; i++) {
        free(req->rcpt[i].address);
        free(req->rcpt[i].orig_rcpt);
        free(req->rcpt[i].dsn_orcpt);
    }
    free(req->rcpt);
    free(req);
}

int deliver_request_reply(stream *s, int status, int site_failure, const char *dsn,
                          const char *reason)
{
    attr_put_int(s, "status", status);
    attr_put_int(s, "site_failure", site_failure);
    if (dsn)
        attr_put_str(s, "dsn", dsn);
    if (reason)
        attr_put_str(s, "reason", reason);
    return attr_end(s);
}

int deliver_ready_read(stream *s)
{
    int     ready = -1;
    attr_spec spec[] = {ATTR_INT("status", &ready), ATTR_END};

    return attr_scan(s, 0, spec) < 0 || ready != 0 ? -1 : 0;
}

int deliver_request_send(stream *s, const deliver_request *req)
{
    return deliver_ready_read(s) < 0 ? -1 : deliver_request_write(s, req);
}

int deliver_request_write(stream *s, const deliver_request *req)
{
    const struct timeval *times[TIME_FIELDS] = {
        &req->arrival_time, &req->active_time, &req->dispatch_time,
    };
    static const char *const time_names[TIME_FIELDS] = {
        "arrival_time", "active_time", "dispatch_time",
    };
    strbuf *text = strbuf_new(24);

    for (size_t i = 0; i < STRING_FIELDS; i++) {
        const char *value = *(char *const *) ((const char *) req + string_fields[i].offset);

        attr_put_str(s, string_fields[i].name, value ? value : "");
    }
    for (int i = 0; i < TIME_FIELDS; i++) {
        deliver_time_format(text, times[i]);
        attr_put_str(s, time_names[i], text->data);
    }
    attr_put_int(s, "flags", req->flags);
    attr_put_int(s, "data_offset", req->data_offset);
    attr_put_int(s, "data_size", req->data_size);
    attr_put_int(s, "smtputf8", req->smtputf8);
    attr_put_int(s, "dsn_ret", req->dsn_ret);
    attr_put_int(s, "rcpt_count", (long) req->rcpt_count);
    attr_put_end(s);
    for (size_t i = 0; i < req->rcpt_count; i++) {
        attr_put_str(s, "address", req->rcpt[i].address);
        attr_put_str(s, "orig_rcpt", req->rcpt[i].orig_rcpt ? req->rcpt[i].orig_rcpt : "");
        attr_put_str(s, "dsn_orcpt", req->rcpt[i].dsn_orcpt ? req->rcpt[i].dsn_orcpt : "");
        attr_put_int(s, "dsn_notify", req->rcpt[i].dsn_notify);
        attr_put_int(s, "offset", req->rcpt[i].offset);
        attr_put_end(s);
    }
    strbuf_free(text);
    return stream_flush(s);
}

void deliver_reply_init(deliver_reply *reply)
{
    reply->status = DELIVER_STAT_DEFER;
    reply->site_failure = 0;
    reply->dsn = strbuf_new(8);
    reply->reason = strbuf_new(64);
}

void deliver_reply_free(deliver_reply *reply)
{
    strbuf_free(reply->dsn);
    strbuf_free(reply->reason);
}

int deliver_reply_read(stream *s, deliver_reply *reply)
{
    attr_spec spec[] = {
        ATTR_INT("status", &reply->status),
        ATTR_INT("site_failure", &reply->site_failure),
        ATTR_OPT_STR("dsn", reply->dsn),
        ATTR_OPT_STR("reason", reply->reason),
        ATTR_END,
    };

    strbuf_reset(reply->dsn);
    strbuf_reset(reply->reason);
    if (attr_scan(s, 0, spec) < 0 || (reply->status != DELIVER_STAT_OK
                                      && reply->status != DELIVER_STAT_DEFER)) {
        reply->status = DELIVER_STAT_DEFER;
        return -1;
    }
    return 0;
}

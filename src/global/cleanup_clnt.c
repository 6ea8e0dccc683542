/*
 * cleanup_clnt - hand a message to cleanup. See cleanup_clnt.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "cleanup_clnt.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "mem.h"

cleanup_clnt *cleanup_clnt_open(int flags, strbuf *why)
{
    stream *s = mail_connect(MAIL_CLASS_PUBLIC, CLEANUP_SERVICE, var_ipc_timeout);
    strbuf *queue_id = strbuf_new(QUEUE_ID_MAX);
    int     status = -1;
    attr_spec reply[] = {
        ATTR_INT("status", &status),
        ATTR_STR("queue_id", queue_id),
        ATTR_END,
    };
    cleanup_clnt *cl;

    if (s == NULL) {
        strbuf_printf(why, "connect to cleanup service: %s", strerror(errno));
        strbuf_free(queue_id);
        return NULL;
    }
    attr_put_int(s, "flags", flags);
    if (attr_end(s) < 0 || attr_scan(s, 0, reply) < 0 || status != 0
        || !queue_id_valid(queue_id->data)) {
        strbuf_set(why, status > 0 ? "cleanup could not create a queue file"
                   : "no or bad reply from cleanup service");
        stream_close(s);
        strbuf_free(queue_id);
        return NULL;
    }
    cl = xcalloc(1, sizeof(*cl));
    cl->stream = s;
    snprintf(cl->queue_id, sizeof(cl->queue_id), "%s", queue_id->data);
    strbuf_free(queue_id);
    return cl;
}

int cleanup_clnt_close(cleanup_clnt *cl, strbuf *reason)
{
    int     status = CLEANUP_STAT_WRITE;
    attr_spec reply[] = {
        ATTR_INT("status", &status),
        ATTR_OPT_STR("reason", reason),
        ATTR_END,
    };

    strbuf_reset(reason);
    if (stream_flush(cl->stream) < 0 || attr_scan(cl->stream, 0, reply) < 0) {
        status = CLEANUP_STAT_WRITE;
        strbuf_set(reason, "4.3.0 lost connection to the cleanup service");
    }
    stream_close(cl->stream);
    free(cl);
    return status;
}

void cleanup_clnt_abort(cleanup_clnt *cl)
{
    stream_close(cl->stream);
    free(cl);
}

void cleanup_stat_detail(int status, const char **dsn, const char **text)
{
    static const struct {
        int     bit;
        const char *dsn;
        const char *text;
    } details[] = {
        {CLEANUP_STAT_DEFER, "4.7.1", "service unavailable"},
        {CLEANUP_STAT_BAD, "4.3.0", "internal protocol error"},
        {CLEANUP_STAT_WRITE, "4.3.0", "queue file write error"},
        {CLEANUP_STAT_SIZE, "5.3.4", "message file too big"},
        {CLEANUP_STAT_CONT, "5.7.1", "message content rejected"},
        {CLEANUP_STAT_HOPS, "5.4.0", "too many hops"},
        {CLEANUP_STAT_RCPT, "5.1.0", "no recipients specified"},
    };

    for (size_t i = 0; i < sizeof(details) / sizeof(details[0]); i++) {
        if (status & details[i].bit) {
            *dsn = details[i].dsn;
            *text = details[i].text;
            return;
        }
    }
    *dsn = "2.0.0";
    *text = "success";
}

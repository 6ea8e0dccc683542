/*
 * policy_clnt - ask an external policy server. See policy_clnt.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "policy_clnt.h"
#include "sock.h"
#include "stream.h"

struct policy_clnt {
    char   *endpoint;
    policy_limits limits;
    stream *stream;
    time_t  opened;
    time_t  last_used;
    int     requests;
};

policy_clnt *policy_clnt_new(const char *endpoint, const policy_limits *limits)
{
    policy_clnt *pc = xcalloc(1, sizeof(*pc));

    pc->endpoint = xstrdup(endpoint);
    pc->limits = *limits;
    if (pc->limits.try_limit < 1)
        pc->limits.try_limit = 1;
    return pc;
}

const char *policy_clnt_endpoint(const policy_clnt *pc)
{
    return pc->endpoint;
}

const char *policy_clnt_server(const policy_clnt *pc)
{
    const char *colon = strchr(pc->endpoint, ':');

    return colon ? colon + 1 : pc->endpoint;
}

static void disconnect(policy_clnt *pc)
{
    if (pc->stream) {
        stream_close(pc->stream);
        pc->stream = NULL;
    }
}

void policy_clnt_free(policy_clnt *pc)
{
    disconnect(pc);
    free(pc->endpoint);
    free(pc);
}

/* Connects to inet:host:port or unix:path; -1 with a reason. */
static int endpoint_connect(const policy_clnt *pc, strbuf *why)
{
    const char *spec = pc->endpoint;
    int     fd = -1;

    if (strncmp(spec, "unix:", 5) == 0 && spec[5]) {
        fd = unix_connect(spec + 5, pc->limits.timeout);
    } else if (strncmp(spec, "inet:", 5) == 0) {
        const char *colon = strrchr(spec + 5, ':');
        char   *host;

        if (colon == NULL || colon == spec + 5 || colon[1] == 0) {
            strbuf_printf(why, "malformed policy service endpoint \"%s\"", spec);
            return -1;
        }
        host = xstrndup(spec + 5, (size_t) (colon - spec - 5));
        fd = inet_connect(host, colon + 1, 0, pc->limits.timeout);
        free(host);
    } else {
        strbuf_printf(why, "unsupported policy service endpoint \"%s\"", spec);
        return -1;
    }
    if (fd < 0)
        strbuf_set(why, strerror(errno));
    return fd;
}

/* Drops a connection that is too old, idle or used; opens one if needed. */
static int ensure_connection(policy_clnt *pc, strbuf *why)
{
    time_t  now = time(NULL);
    int     fd;

    if (pc->stream && (now - pc->last_used >= pc->limits.max_idle
                       || now - pc->opened >= pc->limits.max_ttl
                       || (pc->limits.request_limit > 0
                           && pc->requests >= pc->limits.request_limit)))
        disconnect(pc);
    if (pc->stream)
        return 0;
    if ((fd = endpoint_connect(pc, why)) < 0)
        return -1;
    pc->stream = stream_open_fd(fd, pc->limits.timeout);
    pc->opened = now;
    pc->requests = 0;
    return 0;
}

static int name_valid(const char *name, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')
              || name[i] == '_'))
            return 0;
    return 1;
}

/* Checks that every request item is "name=value" with a valid name. */
static int request_valid(const argv_t *request, strbuf *why)
{
    for (size_t i = 0; i < request->count; i++) {
        const char *item = request->items[i];
        const char *eq = strchr(item, '=');

        if (eq == NULL || !name_valid(item, (size_t) (eq - item))) {
            strbuf_printf(why, "bad policy request attribute \"%.40s\"", item);
            return 0;
        }
    }
    return 1;
}

/* Writes one "name=value" line with line-breaking bytes made harmless. */
static void put_attribute(stream *s, const char *item)
{
    const char *eq = strchr(item, '=');

    stream_write(s, item, (size_t) (eq - item) + 1);
    for (const char *cp = eq + 1; *cp; cp++)
        stream_putc(s, (*cp == '\r' || *cp == '\n') ? '?' : *cp);
    stream_putc(s, '\n');
}

/* Reads the reply up to its empty line; 0 with the action, -1 otherwise. */
static int read_reply(stream *s, strbuf *action, strbuf *why)
{
    strbuf *line = strbuf_new(128);
    int     found = 0;
    int     status = -1;

    for (int count = 0; count <= POLICY_REPLY_LINES; count++) {
        if (stream_get_line(s, line, POLICY_LINE_MAX + 1) != STREAM_LINE_COMPLETE) {
            strbuf_set(why, line->len > POLICY_LINE_MAX ? "reply line too long"
                       : stream_timed_out(s) ? "timeout" : "lost connection");
            break;
        }
        strbuf_truncate(line, line->len - 1);
        if (line->len == 0) {
            if (!found)
                strbuf_set(why, "reply has no action attribute");
            status = found ? 0 : -1;
            break;
        }
        if (memchr(line->data, '=', line->len) == NULL || memchr(line->data, 0, line->len)) {
            strbuf_set(why, "malformed reply line");
            break;
        }
        if (strncmp(line->data, "action=", 7) == 0) {
            if (found++) {
                strbuf_set(why, "reply has more than one action attribute");
                break;
            }
            strbuf_set(action, line->data + 7);
        }
        if (count == POLICY_REPLY_LINES)
            strbuf_set(why, "reply has too many lines");
    }
    strbuf_free(line);
    return status;
}

static int exchange(policy_clnt *pc, const argv_t *request, strbuf *action, strbuf *why)
{
    if (ensure_connection(pc, why) < 0)
        return -1;
    for (size_t i = 0; i < request->count; i++)
        put_attribute(pc->stream, request->items[i]);
    stream_putc(pc->stream, '\n');
    if (stream_flush(pc->stream) < 0) {
        strbuf_set(why, stream_timed_out(pc->stream) ? "timeout" : "lost connection");
        disconnect(pc);
        return -1;
    }
    if (read_reply(pc->stream, action, why) < 0) {
        disconnect(pc);
        return -1;
    }
    pc->requests++;
    pc->last_used = time(NULL);
    return 0;
}

int policy_clnt_query(policy_clnt *pc, const argv_t *request, strbuf *action, strbuf *why)
{
    int     stale_retry_done = 0;

    if (!request_valid(request, why))
        return -1;
    for (int attempt = 1; attempt <= pc->limits.try_limit; attempt++) {
        int     reused = pc->stream != NULL;

        strbuf_reset(why);
        strbuf_reset(action);
        if (exchange(pc, request, action, why) == 0)
            return 0;
        if (reused && !stale_retry_done++) {
            attempt--;                  /* the server closed an idle connection */
            continue;
        }
        if (attempt < pc->limits.try_limit && pc->limits.retry_delay > 0)
            sleep((unsigned) pc->limits.retry_delay);
    }
    disconnect(pc);
    return -1;
}

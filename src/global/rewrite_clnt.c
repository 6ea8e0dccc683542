/*
 * rewrite_clnt - trivial-rewrite client. See rewrite_clnt.h.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "msg.h"
#include "rewrite_clnt.h"

#define REWRITE_SERVICE   "rewrite"
#define REWRITE_ATTEMPTS  10

static stream *connection;
static time_t last_used;

void rewrite_clnt_disconnect(void)
{
    if (connection) {
        stream_close(connection);
        connection = NULL;
    }
}

static stream *rewrite_connection(void)
{
    if (connection && time(NULL) - last_used > var_ipc_idle)
        rewrite_clnt_disconnect();
    if (connection == NULL)
        connection = mail_connect(MAIL_CLASS_PRIVATE, REWRITE_SERVICE, var_ipc_timeout);
    last_used = time(NULL);
    return connection;
}

/* Sends one request and reads the reply; retries on a fresh connection. */
static int rewrite_exchange(void (*send)(stream *, const void *), const void *request,
                            const attr_spec *reply_spec)
{
    for (int attempt = 1; attempt <= REWRITE_ATTEMPTS; attempt++) {
        stream *s = rewrite_connection();

        if (s != NULL) {
            send(s, request);
            if (attr_end(s) == 0 && attr_scan(s, 0, reply_spec) >= 0)
                return 0;
            rewrite_clnt_disconnect();
        }
        if (attempt == 1 && s != NULL)
            continue;                   /* a stale connection: retry at once */
        msg_warn("problem talking to service %s: %s", REWRITE_SERVICE,
                 s ? "bad or no reply" : strerror(errno));
        if (attempt < REWRITE_ATTEMPTS)
            sleep(1);
    }
    return -1;
}

typedef struct rewrite_request {
    const char *rule;
    const char *address;
    const char *sender;
} rewrite_request;

static void send_rewrite(stream *s, const void *data)
{
    const rewrite_request *r = data;

    attr_put_str(s, "request", "rewrite");
    attr_put_str(s, "rule", r->rule);
    attr_put_str(s, "address", r->address);
}

static void send_resolve(stream *s, const void *data)
{
    const rewrite_request *r = data;

    attr_put_str(s, "request", "resolve");
    if (r->sender)
        attr_put_str(s, "sender", r->sender);
    attr_put_str(s, "address", r->address);
}

int rewrite_clnt(const char *rule, const char *address, strbuf *result)
{
    rewrite_request request = {.rule = rule,.address = address };
    int     flags = 0;
    attr_spec reply[] = {
        ATTR_INT("flags", &flags),
        ATTR_STR("address", result),
        ATTR_END,
    };

    return rewrite_exchange(send_rewrite, &request, reply);
}

void resolve_reply_init(resolve_reply *reply)
{
    reply->flags = 0;
    reply->transport = strbuf_new(16);
    reply->nexthop = strbuf_new(64);
    reply->recipient = strbuf_new(64);
}

void resolve_reply_free(resolve_reply *reply)
{
    strbuf_free(reply->transport);
    strbuf_free(reply->nexthop);
    strbuf_free(reply->recipient);
}

int resolve_clnt(const char *sender, const char *address, resolve_reply *reply)
{
    rewrite_request request = {.address = address,.sender = sender };
    attr_spec spec[] = {
        ATTR_INT("flags", &reply->flags),
        ATTR_STR("transport", reply->transport),
        ATTR_STR("nexthop", reply->nexthop),
        ATTR_STR("recipient", reply->recipient),
        ATTR_END,
    };

    return rewrite_exchange(send_resolve, &request, spec);
}

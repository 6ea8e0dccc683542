/*
 * anvil_clnt - anvil client. See anvil_clnt.h.
 */
#include <errno.h>
#include <string.h>

#include "anvil_clnt.h"
#include "attr.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "msg.h"

#define ANVIL_SERVICE "anvil"

static stream *connection;
static int warned;

void anvil_clnt_ident(strbuf *ident, const char *service, const char *client_address)
{
    strbuf_printf(ident, "%s:%s", service, client_address);
}

void anvil_clnt_disconnect(void)
{
    if (connection) {
        stream_close(connection);
        connection = NULL;
    }
}

static int exchange(const char *request, const char *ident, int *count, int *rate)
{
    int     status = -1;
    int     reply_count = 0;
    int     reply_rate = 0;
    attr_spec reply[] = {
        ATTR_INT("status", &status),
        ATTR_INT("count", &reply_count),
        ATTR_INT("rate", &reply_rate),
        ATTR_END,
    };

    if (connection == NULL
        && (connection = mail_connect(MAIL_CLASS_PRIVATE, ANVIL_SERVICE, var_ipc_timeout)) == NULL)
        return -1;
    attr_put_str(connection, "request", request);
    attr_put_str(connection, "ident", ident);
    if (attr_end(connection) < 0 || attr_scan(connection, 0, reply) < 0 || status != 0) {
        anvil_clnt_disconnect();
        return -1;
    }
    if (count)
        *count = reply_count;
    if (rate)
        *rate = reply_rate;
    return 0;
}

int anvil_clnt_request(const char *request, const char *ident, int *count, int *rate)
{
    /* One immediate retry covers a connection that anvil closed while idle. */
    if (exchange(request, ident, count, rate) == 0 || exchange(request, ident, count, rate) == 0)
        return 0;
    if (!warned++)
        msg_warn("problem talking to service %s: %s", ANVIL_SERVICE,
                 errno ? strerror(errno) : "bad reply");
    return -1;
}

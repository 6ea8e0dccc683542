/*
 * bounce_clnt - bounce service client. See bounce_clnt.h.
 */
#include <errno.h>
#include <string.h>

#include "attr.h"
#include "bounce_clnt.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "msg.h"

stream *bounce_clnt_start(const char *service, const char *request, const bounce_message *msg,
                          int timeout)
{
    stream *s = mail_connect(MAIL_CLASS_PRIVATE, service, timeout);

    if (s == NULL) {
        msg_warn("%s: connect to %s service: %s", msg->queue_id, service, strerror(errno));
        return NULL;
    }
    attr_put_str(s, "request", request);
    attr_put_str(s, "queue_name", msg->queue_name);
    attr_put_str(s, "queue_id", msg->queue_id);
    attr_put_str(s, "encoding", msg->encoding ? msg->encoding : "");
    attr_put_int(s, "smtputf8", msg->smtputf8);
    attr_put_str(s, "sender", msg->sender ? msg->sender : "");
    attr_put_str(s, "dsn_envid", msg->dsn_envid ? msg->dsn_envid : "");
    attr_put_int(s, "dsn_ret", msg->dsn_ret);
    if (attr_end(s) < 0) {
        msg_warn("%s: cannot send request to %s service", msg->queue_id, service);
        stream_close(s);
        return NULL;
    }
    return s;
}

int bounce_clnt_finish(stream *s, const char *service, const char *queue_id)
{
    int     status = -1;
    attr_spec reply[] = {ATTR_INT("status", &status), ATTR_END};

    if (attr_scan(s, 0, reply) < 0)
        msg_warn("%s: no reply from %s service", queue_id, service);
    stream_close(s);
    return status == 0 ? 0 : -1;
}

int bounce_clnt_request(const char *service, const char *request, const bounce_message *msg)
{
    stream *s = bounce_clnt_start(service, request, msg, var_ipc_timeout);

    return s ? bounce_clnt_finish(s, service, msg->queue_id) : -1;
}

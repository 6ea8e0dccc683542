/*
 * flush_clnt - flush service client. See flush_clnt.h.
 */
#include "attr.h"
#include "flush_clnt.h"
#include "mail_params.h"
#include "mail_proto.h"

int flush_clnt_request(const char *request, const char *name, const char *value)
{
    stream *s = mail_connect(MAIL_CLASS_PUBLIC, "flush", var_ipc_timeout);
    int     status = FLUSH_STAT_FAIL;
    attr_spec reply[] = {ATTR_INT("status", &status), ATTR_END};

    if (s == NULL)
        return FLUSH_STAT_FAIL;
    attr_put_str(s, "request", request);
    if (name)
        attr_put_str(s, name, value);
    if (attr_end(s) < 0 || attr_scan(s, 0, reply) < 0)
        status = FLUSH_STAT_FAIL;
    stream_close(s);
    return status;
}

int flush_clnt_send_site(const char *site)
{
    return flush_clnt_request("send_site", "site", site);
}

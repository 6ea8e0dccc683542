/*
 * flush_clnt - flush service client. See flush_clnt.h.
 */
#include "attr.h"
#include "flush_clnt.h"
#include "mail_params.h"
#include "mail_proto.h"

typedef struct flush_attr {
    const char *name;
    const char *value;
} flush_attr;

static int flush_exchange(const char *request, const flush_attr *attrs, int count)
{
    stream *s = mail_connect(MAIL_CLASS_PUBLIC, "flush", var_ipc_timeout);
    int     status = FLUSH_STAT_FAIL;
    attr_spec reply[] = {ATTR_INT("status", &status), ATTR_END};

    if (s == NULL)
        return FLUSH_STAT_FAIL;
    attr_put_str(s, "request", request);
    for (int i = 0; i < count; i++)
        attr_put_str(s, attrs[i].name, attrs[i].value);
    if (attr_end(s) < 0 || attr_scan(s, 0, reply) < 0)
        status = FLUSH_STAT_FAIL;
    stream_close(s);
    return status;
}

int flush_clnt_request(const char *request, const char *name, const char *value)
{
    flush_attr attr = {name, value};

    return flush_exchange(request, &attr, name ? 1 : 0);
}

int flush_clnt_send_site(const char *site)
{
    return flush_clnt_request("send_site", "site", site);
}

int flush_clnt_add(const char *site, const char *queue_id)
{
    flush_attr attrs[] = {{"site", site}, {"queue_id", queue_id}};

    return flush_exchange("add", attrs, 2);
}

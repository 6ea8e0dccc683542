/*
 * tls_mgr - the client of the tlsmgr service. See tls_mgr.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "attr.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "tls_mgr.h"

static stream *connection;
static int warned;

static void disconnect(void)
{
    if (connection) {
        stream_close(connection);
        connection = NULL;
    }
}

/* The request's attributes, written by the caller's function. */
typedef void (*request_fn)(stream *s, const void *context);

/* One request and its reply (read against `reply`); 0, or -1 after dropping the connection. */
static int exchange_once(request_fn request, const void *context, const attr_spec *reply)
{
    if (connection == NULL
        && (connection = mail_connect(MAIL_CLASS_PRIVATE, TLS_MGR_SERVICE,
                                      var_ipc_timeout)) == NULL)
        return -1;
    request(connection, context);
    if (attr_end(connection) < 0 || attr_scan(connection, 0, reply) < 0) {
        disconnect();
        return -1;
    }
    return 0;
}

static int exchange(request_fn request, const void *context, const attr_spec *reply)
{
    if (exchange_once(request, context, reply) == 0
        || exchange_once(request, context, reply) == 0)
        return 0;
    if (!warned++)
        msg_warn("problem talking to service %s: %s", TLS_MGR_SERVICE,
                 errno ? strerror(errno) : "bad reply");
    return -1;
}

/* Session caches ------------------------------------------------------------ */

typedef struct cache_request {
    const char *request;
    const char *cache_type;
    const char *cache_id;
    const void *session;                /* update only */
    size_t  session_len;
} cache_request;

static void put_cache_request(stream *s, const void *context)
{
    const cache_request *r = context;

    attr_put_str(s, "request", r->request);
    attr_put_str(s, "cache_type", r->cache_type);
    attr_put_str(s, "cache_id", r->cache_id);
    if (r->session)
        attr_put_data(s, "session", r->session, r->session_len);
}

/* A cache request; the reply's status, or -1. */
static int cache_exchange(const cache_request *r, strbuf *session)
{
    int     status = -1;
    attr_spec reply[] = {
        ATTR_INT("status", &status),
        ATTR_OPT_DATA("session", session),
        ATTR_END,
    };

    if (strlen(r->cache_id) > TLS_MGR_ID_MAX || exchange(put_cache_request, r, reply) < 0)
        return -1;
    return status;
}

static int remote_get(void *handle, const char *key, strbuf *value)
{
    cache_request r = {TLS_MGR_REQ_LOOKUP, handle, key, NULL, 0};

    strbuf_reset(value);
    switch (cache_exchange(&r, value)) {
    case TLS_MGR_STAT_OK:
        return value->len > 0 ? 1 : 0;
    case TLS_MGR_STAT_NOTFOUND:
        return 0;
    default:
        return -1;
    }
}

static int remote_put(void *handle, const char *key, const void *value, size_t len)
{
    cache_request r = {TLS_MGR_REQ_UPDATE, handle, key, value, len};
    strbuf *unused = strbuf_new(0);
    int     status = cache_exchange(&r, unused);

    strbuf_free(unused);
    return status == TLS_MGR_STAT_OK ? 0 : -1;
}

static int remote_del(void *handle, const char *key)
{
    cache_request r = {TLS_MGR_REQ_DELETE, handle, key, NULL, 0};
    strbuf *unused = strbuf_new(0);
    int     status = cache_exchange(&r, unused);

    strbuf_free(unused);
    return status == TLS_MGR_STAT_OK || status == TLS_MGR_STAT_NOTFOUND ? 0 : -1;
}

/* tlsmgr sweeps its databases itself. */
static int remote_expire(void *handle, int (*stale)(const void *value, size_t len,
                                                   void *context), void *context)
{
    return 0;
}

static void remote_close(void *handle)
{
    free(handle);
}

static const tls_scache_ops remote_ops = {
    remote_get, remote_put, remote_del, remote_expire, remote_close,
};

tls_scache *tls_mgr_cache_open(const char *cache_type, int timeout)
{
    return tls_scache_create(&remote_ops, xstrdup(cache_type), timeout);
}

/* Ticket keys ---------------------------------------------------------------- */

static void put_key_request(stream *s, const void *context)
{
    const unsigned char *name = context;

    attr_put_str(s, "request", TLS_MGR_REQ_TICKET_KEY);
    if (name)
        attr_put_data(s, "keyname", name, TLS_TICKET_NAME_LEN);
    else
        attr_put_data(s, "keyname", "", 0);
}

/* Copies a reply field of exactly `len` bytes; -1 for another length. */
static int copy_exact(unsigned char *to, const strbuf *from, size_t len)
{
    if (from->len != len)
        return -1;
    memcpy(to, from->data, len);
    return 0;
}

int tls_mgr_ticket_key(const unsigned char *name, tls_ticket_key *key)
{
    int     status = -1;
    long    created = 0;
    strbuf *key_name = strbuf_new(TLS_TICKET_NAME_LEN);
    strbuf *cipher_key = strbuf_new(TLS_TICKET_CIPHER_KEY_LEN);
    strbuf *hmac_key = strbuf_new(TLS_TICKET_HMAC_KEY_LEN);
    attr_spec reply[] = {
        ATTR_INT("status", &status),
        ATTR_OPT_DATA("keyname", key_name),
        ATTR_OPT_DATA("keycipher", cipher_key),
        ATTR_OPT_DATA("keyhmac", hmac_key),
        ATTR_OPT_LONG("keytime", &created),
        ATTR_END,
    };
    int     result = -1;

    if (exchange(put_key_request, name, reply) == 0 && status == TLS_MGR_STAT_OK
        && copy_exact(key->name, key_name, TLS_TICKET_NAME_LEN) == 0
        && copy_exact(key->cipher_key, cipher_key, TLS_TICKET_CIPHER_KEY_LEN) == 0
        && copy_exact(key->hmac_key, hmac_key, TLS_TICKET_HMAC_KEY_LEN) == 0
        && created > 0) {
        key->created = (time_t) created;
        result = 0;
    }
    OPENSSL_cleanse(cipher_key->data, cipher_key->cap);
    OPENSSL_cleanse(hmac_key->data, hmac_key->cap);
    strbuf_free(key_name);
    strbuf_free(cipher_key);
    strbuf_free(hmac_key);
    return result;
}

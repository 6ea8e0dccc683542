/*
 * tlsmgr - the TLS session cache and ticket key manager (docs/tlsmgr.md).
 *
 * A multi server on private/tlsmgr, one process (master.cf: "tlsmgr unix -
 * - y 1000? 1 tlsmgr"). It owns the Berkeley DB files of
 * smtpd_tls_session_cache_database (cache type "smtpd") and
 * smtp_tls_session_cache_database ("smtp"): they are opened before the
 * chroot with mail_owner's rights and emptied (a restart forgets sessions,
 * as Postfix's tlsmgr does), and every smtpd and smtp process reaches them
 * through this service (tls_mgr.h), so one process writes each database.
 * It also makes the session ticket keys all smtpd processes share: a key
 * encrypts for smtpd_tls_session_cache_timeout seconds and decrypts for
 * twice that (tls_ticket.h).
 *
 * Requests (docs/protocols.md, "tlsmgr"), many per connection:
 *   lookup  cache_type cache_id          -> status session
 *   update  cache_type cache_id session  -> status
 *   delete  cache_type cache_id          -> status
 *   tktkey  keyname (empty: current)     -> status keyname keycipher keyhmac keytime
 * Sessions travel as the cache's stored entries (tls_scache_get_entry());
 * tlsmgr checks their format and age, never their content. A cache type
 * without a database answers status 2.
 *
 * master's wake-up ("W" instead of a request, every 1000 seconds while the
 * process runs) sweeps expired entries out of both databases.
 *
 * A malformed frame, an unknown request or cache type name, a cache_id
 * empty or longer than TLS_MGR_ID_MAX, or a key name of the wrong length is
 * logged and the client disconnected.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "attr.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "server.h"
#include "set_eugid.h"
#include "tls_mgr.h"
#include "tls_scache.h"
#include "tls_ticket.h"

typedef struct managed_cache {
    const char *type;                   /* TLS_MGR_CACHE_* */
    const char *param;                  /* its database parameter */
    tls_scache *cache;                  /* NULL: not configured or not openable */
} managed_cache;

static managed_cache caches[] = {
    {TLS_MGR_CACHE_SMTPD, "smtpd_tls_session_cache_database", NULL},
    {TLS_MGR_CACHE_SMTP, "smtp_tls_session_cache_database", NULL},
};

#define CACHE_COUNT (sizeof(caches) / sizeof(caches[0]))

static tls_ticket_keys *ticket_keys;
static strbuf *request;
static strbuf *cache_type;
static strbuf *cache_id;
static strbuf *session;
static strbuf *key_name;

/* Start-up ------------------------------------------------------------------- */

static tls_scache *open_cache(const char *param, const char *spec, int timeout)
{
    struct passwd *owner = getpwnam(var_mail_owner);
    strbuf *why = strbuf_new(64);
    tls_scache *cache;

    if (owner == NULL)
        msg_fatal("unknown mail_owner \"%s\"", var_mail_owner);
    set_eugid(owner->pw_uid, owner->pw_gid);
    cache = tls_scache_open(spec, timeout, TLS_SCACHE_CLEAR, why);
    set_eugid(0, 0);
    if (cache == NULL)
        msg_warn("%s: %s -- no session cache", param, why->data);
    else if (msg_verbose)
        msg_info("open %s TLS cache %s", param, spec);
    strbuf_free(why);
    return cache;
}

static void tlsmgr_pre_init(const server_ctx *ctx)
{
    if (*var_smtpd_tls_session_cache_database)
        caches[0].cache = open_cache(caches[0].param, var_smtpd_tls_session_cache_database,
                                     var_smtpd_tls_session_cache_timeout);
    if (*var_smtp_tls_session_cache_database)
        caches[1].cache = open_cache(caches[1].param, var_smtp_tls_session_cache_database,
                                     var_smtp_tls_session_cache_timeout);
}

static void tlsmgr_post_init(const server_ctx *ctx)
{
    ticket_keys = tls_ticket_keys_new(var_smtpd_tls_session_cache_timeout, NULL);
    request = strbuf_new(16);
    cache_type = strbuf_new(16);
    cache_id = strbuf_new(128);
    session = strbuf_new(1024);
    key_name = strbuf_new(TLS_TICKET_NAME_LEN);
}

/* The wake-up: expired entries go. */
static void sweep(void)
{
    for (size_t i = 0; i < CACHE_COUNT; i++) {
        int     removed;

        if (caches[i].cache && (removed = tls_scache_expire(caches[i].cache)) > 0 && msg_verbose)
            msg_info("%s TLS cache: %d expired entries removed", caches[i].type, removed);
    }
}

/* Requests -------------------------------------------------------------------- */

/* The cache a request names; -1 (logged) for an unknown type or a bad cache_id. */
static int find_cache(managed_cache **found)
{
    if (cache_id->len == 0 || cache_id->len > TLS_MGR_ID_MAX) {
        msg_warn("%s request: bad cache_id length %zu -- disconnecting the client",
                 request->data, cache_id->len);
        return -1;
    }
    for (size_t i = 0; i < CACHE_COUNT; i++) {
        if (strcmp(cache_type->data, caches[i].type) == 0) {
            *found = &caches[i];
            return 0;
        }
    }
    msg_warn("%s request: unknown cache type \"%s\" -- disconnecting the client",
             request->data, cache_type->data);
    return -1;
}

static int lookup(stream *client)
{
    managed_cache *m;
    int     status = TLS_MGR_STAT_FAIL;

    if (find_cache(&m) < 0)
        return -1;
    strbuf_reset(session);
    if (m->cache) {
        switch (tls_scache_get_entry(m->cache, cache_id->data, session)) {
        case 1:
            status = TLS_MGR_STAT_OK;
            break;
        case 0:
            status = TLS_MGR_STAT_NOTFOUND;
            break;
        default:
            strbuf_reset(session);
            break;
        }
    }
    attr_put_int(client, "status", status);
    attr_put_data(client, "session", session->data, session->len);
    return attr_end(client);
}

static int update(stream *client)
{
    managed_cache *m;
    int     status = TLS_MGR_STAT_FAIL;

    if (find_cache(&m) < 0)
        return -1;
    if (m->cache && tls_scache_put_entry(m->cache, cache_id->data, session->data,
                                         session->len) == 0)
        status = TLS_MGR_STAT_OK;
    attr_put_int(client, "status", status);
    return attr_end(client);
}

static int delete(stream *client)
{
    managed_cache *m;
    int     status = TLS_MGR_STAT_FAIL;

    if (find_cache(&m) < 0)
        return -1;
    if (m->cache && tls_scache_remove(m->cache, cache_id->data) == 0)
        status = TLS_MGR_STAT_OK;
    attr_put_int(client, "status", status);
    return attr_end(client);
}

static int ticket_key(stream *client)
{
    tls_ticket_key key;
    int     status;

    if (key_name->len != 0 && key_name->len != TLS_TICKET_NAME_LEN) {
        msg_warn("%s request: bad key name length %zu -- disconnecting the client",
                 request->data, key_name->len);
        return -1;
    }
    if (key_name->len == 0)
        status = tls_ticket_keys_current(ticket_keys, &key);
    else
        status = tls_ticket_keys_find(ticket_keys, (unsigned char *) key_name->data, &key);
    attr_put_int(client, "status", status == 0 ? TLS_MGR_STAT_OK : TLS_MGR_STAT_NOTFOUND);
    if (status == 0) {
        attr_put_data(client, "keyname", key.name, TLS_TICKET_NAME_LEN);
        attr_put_data(client, "keycipher", key.cipher_key, TLS_TICKET_CIPHER_KEY_LEN);
        attr_put_data(client, "keyhmac", key.hmac_key, TLS_TICKET_HMAC_KEY_LEN);
        attr_put_int(client, "keytime", (long) key.created);
    }
    OPENSSL_cleanse(&key, sizeof(key));
    return attr_end(client);
}

static const struct {
    const char *name;
    int     (*handle)(stream *client);
} handlers[] = {
    {TLS_MGR_REQ_LOOKUP, lookup},
    {TLS_MGR_REQ_UPDATE, update},
    {TLS_MGR_REQ_DELETE, delete},
    {TLS_MGR_REQ_TICKET_KEY, ticket_key},
};

#define UNKNOWN (-2)                    /* no handler for the request */

/* One request; 0 answered, -1 the client goes (EOF, or logged trouble). */
static int serve_request(stream *client)
{
    const attr_spec spec[] = {
        ATTR_STR("request", request),
        ATTR_OPT_STR("cache_type", cache_type),
        ATTR_OPT_STR("cache_id", cache_id),
        ATTR_OPT_DATA("session", session),
        ATTR_OPT_DATA("keyname", key_name),
        ATTR_END,
    };
    int     result = UNKNOWN;

    strbuf_reset(cache_type);
    strbuf_reset(cache_id);
    strbuf_reset(session);
    strbuf_reset(key_name);
    if (attr_scan(client, 0, spec) < 0) {
        msg_warn("malformed request -- disconnecting the client");
        return -1;
    }
    for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]) && result == UNKNOWN; i++)
        if (strcmp(request->data, handlers[i].name) == 0)
            result = handlers[i].handle(client);
    if (result == UNKNOWN) {
        msg_warn("unknown request \"%s\" -- disconnecting the client", request->data);
        result = -1;
    }
    OPENSSL_cleanse(session->data, session->cap);
    return result;
}

static void tlsmgr_service(stream *client, const server_ctx *ctx)
{
    int     first = stream_peek(client);

    if (first == 'W') {
        sweep();
        multi_server_disconnect(client);
    } else if (first < 0 || serve_request(client) < 0) {
        multi_server_disconnect(client);
    }
}

int     main(int argc, char **argv)
{
    static const server_spec spec = {
        .pre_init = tlsmgr_pre_init,
        .post_init = tlsmgr_post_init,
        .service = tlsmgr_service,
    };

    multi_server_main(argc, argv, &spec);
}

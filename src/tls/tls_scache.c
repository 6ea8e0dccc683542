/*
 * tls_scache - the TLS session cache over a table of operations, with a
 * Berkeley DB implementation, and session (de)serialization. See
 * tls_scache.h.
 */
#include <db.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "mem.h"
#include "msg.h"
#include "tls_private.h"
#include "tls_scache.h"

#define ENTRY_VERSION      1
#define ENTRY_HEADER_LEN   9            /* version byte, 8-byte store time */
#define ENTRY_MAX          (64 * 1024)  /* a session is a few hundred bytes */
#define FUTURE_SLACK       300          /* seconds of clock skew tolerated */

struct tls_scache {
    const tls_scache_ops *ops;
    void   *handle;
    int     timeout;
};

/* Berkeley DB: one handle, no environment; keys without their NUL. */

static void db_key(DBT *key, const char *text)
{
    memset(key, 0, sizeof(*key));
    key->data = (void *) text;
    key->size = (u_int32_t) strlen(text);
}

static int db_get(void *handle, const char *key_text, strbuf *value)
{
    DB     *db = handle;
    DBT     key;
    DBT     data;
    int     status;

    db_key(&key, key_text);
    memset(&data, 0, sizeof(data));
    if ((status = db->get(db, NULL, &key, &data, 0)) == DB_NOTFOUND)
        return 0;
    if (status != 0) {
        msg_warn("TLS session cache: lookup error: %s", db_strerror(status));
        return -1;
    }
    strbuf_set_mem(value, data.data, data.size);
    return 1;
}

static int db_put(void *handle, const char *key_text, const void *value, size_t len)
{
    DB     *db = handle;
    DBT     key;
    DBT     data;
    int     status;

    db_key(&key, key_text);
    memset(&data, 0, sizeof(data));
    data.data = (void *) value;
    data.size = (u_int32_t) len;
    if ((status = db->put(db, NULL, &key, &data, 0)) != 0
        || (status = db->sync(db, 0)) != 0) {
        msg_warn("TLS session cache: update error: %s", db_strerror(status));
        return -1;
    }
    return 0;
}

static int db_del(void *handle, const char *key_text)
{
    DB     *db = handle;
    DBT     key;
    int     status;

    db_key(&key, key_text);
    if ((status = db->del(db, NULL, &key, 0)) != 0 && status != DB_NOTFOUND) {
        msg_warn("TLS session cache: delete error: %s", db_strerror(status));
        return -1;
    }
    return 0;
}

static int db_expire(void *handle, int (*stale)(const void *value, size_t len, void *context),
                     void *context)
{
    DB     *db = handle;
    DBC    *cursor;
    DBT     key;
    DBT     data;
    int     removed = 0;
    int     status;

    if ((status = db->cursor(db, NULL, &cursor, 0)) != 0) {
        msg_warn("TLS session cache: cannot scan: %s", db_strerror(status));
        return -1;
    }
    memset(&key, 0, sizeof(key));
    memset(&data, 0, sizeof(data));
    while ((status = cursor->get(cursor, &key, &data, DB_NEXT)) == 0)
        if (stale(data.data, data.size, context) && cursor->del(cursor, 0) == 0)
            removed++;
    cursor->close(cursor);
    (void) db->sync(db, 0);
    if (status != DB_NOTFOUND) {
        msg_warn("TLS session cache: scan error: %s", db_strerror(status));
        return -1;
    }
    return removed;
}

static void db_close(void *handle)
{
    DB     *db = handle;

    db->close(db, 0);
}

static const tls_scache_ops db_ops = {db_get, db_put, db_del, db_expire, db_close};

static DB *db_open(const char *path, DBTYPE type, int clear, strbuf *why)
{
    DB     *db;
    int     status;

    if ((status = db_create(&db, NULL, 0)) != 0) {
        strbuf_printf(why, "cannot create a Berkeley DB handle: %s", db_strerror(status));
        return NULL;
    }
    if ((status = db->open(db, NULL, path, NULL, type, DB_CREATE | (clear ? DB_TRUNCATE : 0),
                           0600)) != 0) {
        strbuf_printf(why, "cannot open TLS session cache %s: %s", path, db_strerror(status));
        db->close(db, 0);
        return NULL;
    }
    return db;
}

tls_scache *tls_scache_open(const char *spec, int timeout, int flags, strbuf *why)
{
    const char *colon = spec ? strchr(spec, ':') : NULL;
    strbuf *path;
    DBTYPE  type;
    DB     *db;

    if (colon == NULL || colon[1] != '/') {
        strbuf_printf(why, "invalid TLS session cache \"%s\": expected btree:/path",
                      spec ? spec : "");
        return NULL;
    }
    if (colon - spec == 5 && strncmp(spec, "btree", 5) == 0)
        type = DB_BTREE;
    else if (colon - spec == 4 && strncmp(spec, "hash", 4) == 0)
        type = DB_HASH;
    else {
        strbuf_printf(why, "unsupported TLS session cache type in \"%s\": use btree:", spec);
        return NULL;
    }
    path = strbuf_new(128);
    strbuf_printf(path, "%s.db", colon + 1);
    db = db_open(path->data, type, flags & TLS_SCACHE_CLEAR, why);
    strbuf_free(path);
    return db ? tls_scache_create(&db_ops, db, timeout) : NULL;
}

tls_scache *tls_scache_create(const tls_scache_ops *ops, void *handle, int timeout)
{
    tls_scache *cache = xcalloc(1, sizeof(*cache));

    cache->ops = ops;
    cache->handle = handle;
    cache->timeout = timeout;
    return cache;
}

int tls_scache_timeout(const tls_scache *cache)
{
    return cache->timeout;
}

void tls_scache_close(tls_scache *cache)
{
    if (cache == NULL)
        return;
    cache->ops->close(cache->handle);
    free(cache);
}

/* Entries: version, store time (big-endian 64 bits), DER session. */

static time_t entry_time(const unsigned char *entry)
{
    unsigned long long stamp = 0;

    for (int i = 1; i < ENTRY_HEADER_LEN; i++)
        stamp = stamp << 8 | entry[i];
    return (time_t) stamp;
}

typedef struct staleness {
    int     timeout;
    time_t  now;
} staleness;

static int entry_stale(const void *value, size_t len, void *context)
{
    const staleness *when = context;
    const unsigned char *entry = value;
    time_t  stored;

    if (len <= ENTRY_HEADER_LEN || len > ENTRY_MAX || entry[0] != ENTRY_VERSION)
        return 1;
    stored = entry_time(entry);
    return stored > when->now + FUTURE_SLACK || when->now - stored >= when->timeout;
}

int tls_scache_store(tls_scache *cache, const char *key, const void *der, size_t len)
{
    strbuf *entry;
    unsigned long long stamp = (unsigned long long) tls_now();
    int     result;

    if (len == 0 || len + ENTRY_HEADER_LEN > ENTRY_MAX)
        return -1;
    entry = strbuf_new(len + ENTRY_HEADER_LEN);
    strbuf_append_char(entry, ENTRY_VERSION);
    for (int shift = 56; shift >= 0; shift -= 8)
        strbuf_append_char(entry, (int) (stamp >> shift & 0xff));
    strbuf_append(entry, der, len);
    result = cache->ops->put(cache->handle, key, entry->data, entry->len);
    OPENSSL_cleanse(entry->data, entry->len);
    strbuf_free(entry);
    return result;
}

int tls_scache_fetch(tls_scache *cache, const char *key, strbuf *der)
{
    staleness when = {cache->timeout, tls_now()};
    strbuf *entry = strbuf_new(1024);
    int     status = cache->ops->get(cache->handle, key, entry);

    strbuf_reset(der);
    if (status == 1 && entry_stale(entry->data, entry->len, &when)) {
        (void) cache->ops->del(cache->handle, key);
        status = 0;
    }
    if (status == 1)
        strbuf_set_mem(der, entry->data + ENTRY_HEADER_LEN, entry->len - ENTRY_HEADER_LEN);
    OPENSSL_cleanse(entry->data, entry->len);
    strbuf_free(entry);
    return status;
}

int tls_scache_get_entry(tls_scache *cache, const char *key, strbuf *entry)
{
    staleness when = {cache->timeout, tls_now()};
    int     status = cache->ops->get(cache->handle, key, entry);

    if (status == 1 && entry_stale(entry->data, entry->len, &when)) {
        (void) cache->ops->del(cache->handle, key);
        strbuf_reset(entry);
        status = 0;
    }
    return status;
}

int tls_scache_put_entry(tls_scache *cache, const char *key, const void *entry, size_t len)
{
    staleness when = {cache->timeout, tls_now()};

    if (entry_stale(entry, len, &when))
        return -1;
    return cache->ops->put(cache->handle, key, entry, len);
}

int tls_scache_remove(tls_scache *cache, const char *key)
{
    return cache->ops->del(cache->handle, key);
}

int tls_scache_expire(tls_scache *cache)
{
    staleness when = {cache->timeout, tls_now()};

    return cache->ops->expire(cache->handle, entry_stale, &when);
}

/* Sessions. */

int tls_session_to_der(SSL_SESSION *session, strbuf *der)
{
    int     len = i2d_SSL_SESSION(session, NULL);
    unsigned char *buf;
    unsigned char *out;
    int     result = -1;

    strbuf_reset(der);
    if (len <= 0 || len > ENTRY_MAX)
        return -1;
    out = buf = xmalloc((size_t) len);
    if (i2d_SSL_SESSION(session, &out) == len) {
        strbuf_set_mem(der, buf, (size_t) len);
        result = 0;
    }
    OPENSSL_cleanse(buf, (size_t) len);
    free(buf);
    return result;
}

SSL_SESSION *tls_session_from_der(const void *der, size_t len)
{
    const unsigned char *in = der;
    SSL_SESSION *session;

    if (len == 0 || len > ENTRY_MAX)
        return NULL;
    session = d2i_SSL_SESSION(NULL, &in, (long) len);
    if (session != NULL && in != (const unsigned char *) der + len) {
        SSL_SESSION_free(session);      /* trailing bytes */
        session = NULL;
    }
    ERR_clear_error();
    return session;
}

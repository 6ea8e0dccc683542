/*
 * tls_scache - the TLS session cache: serialized sessions in a table keyed
 * by session ID (server) or by the client's cache key, with expiry.
 *
 * The table sits behind a small set of operations (tls_scache_ops): the
 * tlsmgr daemon owns the databases, and the daemons reach them over IPC
 * with another implementation of the same operations (tls_mgr.h). The one built in
 * is Berkeley DB: tls_scache_open() takes Postfix's parameter value
 * ("btree:/var/lib/postfix/smtpd_scache"; "hash:" works too; ".db" is
 * appended to the name, as Postfix's tables do), creates the file (mode
 * 0600) when missing and empties it with TLS_SCACHE_CLEAR (tlsmgr starts
 * with an empty cache). Berkeley DB without an environment is not safe for
 * concurrent writers: one process, tlsmgr, owns a database file.
 *
 * Entries are stored as a version byte, the store time (8 bytes, network
 * order) and the DER session. tls_scache_fetch() treats an entry older
 * than `timeout` seconds, stored in the future, or malformed as absent
 * (and deletes it); tls_scache_expire() deletes every such entry and
 * returns how many it removed (-1 on error).
 *
 * Results: tls_scache_fetch() 1 found (the DER bytes in `der`), 0 absent,
 * -1 error; store/remove 0 or -1. Errors are logged as warnings: a broken
 * cache only costs full handshakes.
 *
 * tls_scache_get_entry() and tls_scache_put_entry() read and write whole
 * entries as stored, for tlsmgr, which keeps the tables of the caches that
 * other processes open with tls_mgr_cache_open(): the entry format is
 * checked (a malformed or stale entry is refused by put, and deleted and
 * absent for get) but the session inside is the fetching side's business.
 * Results as for fetch and store.
 *
 * tls_session_to_der() and tls_session_from_der() (de)serialize an OpenSSL
 * session; the decoder insists that the bytes hold exactly one session and
 * returns NULL otherwise (the caller owns and frees the SSL_SESSION).
 */
#ifndef POSTERN_TLS_SCACHE_H
#define POSTERN_TLS_SCACHE_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "strbuf.h"

#define TLS_SCACHE_CLEAR    (1 << 0)

typedef struct tls_scache tls_scache;

typedef struct tls_scache_ops {
    int     (*get)(void *handle, const char *key, strbuf *value);       /* 1, 0, -1 */
    int     (*put)(void *handle, const char *key, const void *value, size_t len);
    int     (*del)(void *handle, const char *key);
    /* Delete entries for which stale() says 1; the count, or -1. */
    int     (*expire)(void *handle, int (*stale)(const void *value, size_t len, void *context),
                      void *context);
    void    (*close)(void *handle);
} tls_scache_ops;

tls_scache *tls_scache_open(const char *spec, int timeout, int flags, strbuf *why);
tls_scache *tls_scache_create(const tls_scache_ops *ops, void *handle, int timeout);
int     tls_scache_store(tls_scache *cache, const char *key, const void *der, size_t len);
int     tls_scache_fetch(tls_scache *cache, const char *key, strbuf *der);
int     tls_scache_remove(tls_scache *cache, const char *key);
int     tls_scache_expire(tls_scache *cache);
int     tls_scache_get_entry(tls_scache *cache, const char *key, strbuf *entry);
int     tls_scache_put_entry(tls_scache *cache, const char *key, const void *entry,
                             size_t len);
int     tls_scache_timeout(const tls_scache *cache);
void    tls_scache_close(tls_scache *cache);

int     tls_session_to_der(SSL_SESSION *session, strbuf *der);
SSL_SESSION *tls_session_from_der(const void *der, size_t len);

#endif

/*
 * tls_mgr - the client of the tlsmgr service (docs/tlsmgr.md): TLS session
 * caches and session ticket keys shared by every smtpd and smtp process.
 *
 * tlsmgr (one process, private/tlsmgr) owns the Berkeley DB files of
 * smtpd_tls_session_cache_database (cache type "smtpd") and
 * smtp_tls_session_cache_database ("smtp"), so no two processes ever write
 * one database, and the session ticket keys smtpd encrypts tickets with.
 *
 * tls_mgr_cache_open(cache_type, timeout) returns a session cache
 * (tls_scache.h) whose table lives in tlsmgr: give it as the `cache` of a
 * server or client TLS configuration, with the cache timeout parameter of
 * that side; tls_scache_close() releases it. It cannot fail: while tlsmgr
 * cannot be reached, or has no database for that type, lookups find
 * nothing and stores are dropped (logged once per process), which costs
 * full handshakes, never mail. Expiry is tlsmgr's business.
 *
 * The smtp client, for smtp_tls_session_cache_database:
 *     if (*var_smtp_tls_session_cache_database)
 *         cfg.cache = tls_mgr_cache_open(TLS_MGR_CACHE_SMTP,
 *                                        var_smtp_tls_session_cache_timeout);
 *
 * tls_mgr_ticket_key(name, key) is a tls_ticket_key_fn (tls_ticket.h) for
 * tls_server_config.ticket_keys: the current key (name NULL) or the key
 * with that name, from tlsmgr. 0, or -1 (unknown or expired name, tlsmgr
 * unreachable, a malformed reply).
 *
 * One connection per process serves every request; a request that fails is
 * tried once more on a new connection (tlsmgr may have closed an idle one).
 * The protocol is in docs/protocols.md ("tlsmgr"); its names are below,
 * for the daemon.
 */
#ifndef POSTERN_TLS_MGR_H
#define POSTERN_TLS_MGR_H

#include "tls_scache.h"
#include "tls_ticket.h"

#define TLS_MGR_SERVICE         "tlsmgr"
#define TLS_MGR_CACHE_SMTPD     "smtpd"
#define TLS_MGR_CACHE_SMTP      "smtp"

#define TLS_MGR_REQ_LOOKUP      "lookup"
#define TLS_MGR_REQ_UPDATE      "update"
#define TLS_MGR_REQ_DELETE      "delete"
#define TLS_MGR_REQ_TICKET_KEY  "tktkey"

#define TLS_MGR_STAT_OK         0       /* done, found */
#define TLS_MGR_STAT_NOTFOUND   1       /* no such entry or key */
#define TLS_MGR_STAT_FAIL       2       /* no such cache, or its database failed */

#define TLS_MGR_ID_MAX          1024    /* bytes of a cache_id */

tls_scache *tls_mgr_cache_open(const char *cache_type, int timeout);
int     tls_mgr_ticket_key(const unsigned char *name, tls_ticket_key *key);

#endif

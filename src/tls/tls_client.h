/*
 * tls_client - TLS for the SMTP and LMTP client.
 *
 * Setup, once per process, before chroot:
 *     tls_client_config cfg;
 *     tls_client_config_init(&cfg);                     main.cf smtp_tls_* values
 *                                     (tls_client_config_init_lmtp(): lmtp_tls_*)
 *     cfg.cache = tls_scache_open(var_smtp_tls_session_cache_database, ...);
 *     ctx = tls_client_init(&cfg, why);                 NULL: fatal config error
 * As for the server, the config's strings belong to the parameters and
 * only `cache` must outlive the context.
 *
 * Per connection, after the server said 220 to STARTTLS (or at once in
 * wrapper mode), tls_client_start() takes the effective level
 * (tls_level_effective()), the MX host name, the nexthop domain, NAMADDR for
 * logs ("mx.example.com[192.0.2.1]:25"), the policy table entry (or NULL),
 * the TLSA records the caller found in DNSSEC-signed DNS (dane levels), a
 * session cache key (the nexthop, say; NULL for no reuse) and a handshake
 * timeout (smtp_starttls_timeout). Protocols, ciphers and exclusions come
 * from the policy when it names them, else from the mandatory parameters
 * at encrypt and above and the opportunistic ones at may.
 *
 * What the levels check (the handshake itself never stops on a
 * certificate problem; the level decides afterwards):
 *     may, encrypt   nothing; "Trusted" when the chain verifies
 *     fingerprint    the certificate's or its public key's digest
 *                    (smtp_tls_fingerprint_digest) is in the policy's match
 *                    list or smtp_tls_fingerprint_cert_match
 *     dane, dane-only  the TLSA records, through OpenSSL's DANE support;
 *                    names (host, nexthop) for DANE-TA(2)
 *     verify, secure the chain against CAfile/CApath and a name in the
 *                    match list: smtp_tls_verify_cert_match (verify) or
 *                    smtp_tls_secure_cert_match (secure) unless the policy
 *                    has match=; "hostname" is the MX host, "nexthop" the
 *                    nexthop domain, "dot-nexthop" its subdomains, a name is
 *                    itself and ".domain" its subdomains; wildcards cover
 *                    several labels unless tls_wildcard_matches_multiple_labels
 *                    = no
 * When the level's check fails the handshake still completes, the failure
 * is logged as Postfix does ("server certificate verification failed for
 * NAMADDR: num=62:hostname mismatch" and the like) with loglevel >= 1,
 * close_notify is sent, NULL is returned and out->failure_reason says
 * "Server certificate not verified" (deferral dsn 4.7.5), or, at verify and
 * secure when the chain itself did not verify, "Server certificate not
 * trusted", as Postfix. A handshake
 * failure returns NULL with failure_reason "Cannot start TLS: handshake
 * failure". The stream is unusable after NULL; the caller closes it.
 *
 * SNI: smtp_tls_servername or the policy's servername= ("hostname": the MX
 * host, "nexthop", or a literal name); at the dane levels the MX host name.
 *
 * Session reuse: with a cache and a cache key, a session stored under the
 * key is offered, and a new session is stored after a successful check.
 * The stored key is the caller's key plus a digest of everything that
 * affects the check (level, names, fingerprints, TLSA, protocols, ciphers,
 * SNI), so a session made under one policy is never reused under another.
 *
 * On success the session is returned (tls_session_stop() ends it), `out` is
 * filled and, with loglevel >= 1, "... TLS connection established to
 * NAMADDR: ..." is logged.
 */
#ifndef POSTERN_TLS_CLIENT_H
#define POSTERN_TLS_CLIENT_H

#include <stddef.h>

#include "stream.h"
#include "strbuf.h"
#include "tls.h"
#include "tls_policy.h"
#include "tls_scache.h"

typedef struct tls_client_ctx tls_client_ctx;

typedef struct tls_client_config {
    int     loglevel;                   /* smtp_tls_loglevel */
    const char *chain_files;
    const char *cert_file;
    const char *key_file;
    const char *eccert_file;
    const char *eckey_file;
    const char *dcert_file;
    const char *dkey_file;
    const char *CAfile;
    const char *CApath;
    int     append_default_CA;
    const char *protocols;              /* opportunistic (may) */
    const char *mandatory_protocols;    /* encrypt and above */
    const char *ciphers;                /* grades */
    const char *mandatory_ciphers;
    const char *exclude_ciphers;
    const char *mandatory_exclude_ciphers;
    const char *ssl_options;
    const char *fingerprint_digest;
    const char *verify_cert_match;
    const char *secure_cert_match;
    const char *fingerprint_cert_match;
    const char *servername;
    int     verifydepth;
    int     wildcard_multiple_labels;
    tls_scache *cache;                  /* or NULL */
} tls_client_config;

typedef struct tls_tlsa {
    unsigned char usage;                /* 2 DANE-TA, 3 DANE-EE */
    unsigned char selector;             /* 0 certificate, 1 public key */
    unsigned char mtype;                /* 0 full, 1 SHA2-256, 2 SHA2-512 */
    const unsigned char *data;
    size_t  len;
} tls_tlsa;

typedef struct tls_client_params {
    enum tls_level level;               /* effective level, above none */
    const char *host;                   /* the MX host name */
    const char *nexthop;                /* the nexthop domain */
    const char *namaddr;                /* for logging */
    const tls_policy *policy;           /* or NULL */
    const tls_tlsa *tlsa;
    size_t  tlsa_count;
    const char *cache_key;              /* or NULL */
    int     timeout;                    /* handshake, seconds */
} tls_client_params;

void    tls_client_config_init(tls_client_config *cfg);
void    tls_client_config_init_lmtp(tls_client_config *cfg);
tls_client_ctx *tls_client_init(const tls_client_config *cfg, strbuf *why);
tls_session *tls_client_start(tls_client_ctx *ctx, stream *s, const tls_client_params *params,
                              tls_session_info *out);
void    tls_client_free(tls_client_ctx *ctx);

#endif

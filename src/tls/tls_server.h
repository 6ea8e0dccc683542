/*
 * tls_server - TLS for the SMTP server: STARTTLS and wrapper mode.
 *
 * Setup, once per process, before chroot and privilege drop (the key files
 * are readable by root only):
 *     tls_server_config cfg;
 *     tls_server_config_init(&cfg, tls_server_level());   main.cf values
 *     cfg.cache = tls_scache_open(var_smtpd_tls_session_cache_database, ...);
 *     ctx = tls_server_init(&cfg, why);                    NULL: fatal config error
 * tls_server_config_init() fills `cfg` from the var_smtpd_tls_* and var_tls_*
 * parameters (params_load() first), choosing the mandatory protocols,
 * ciphers and exclusions at level encrypt and the opportunistic ones
 * otherwise; the strings stay owned by the parameters. tls_server_init()
 * copies what it needs: the config may go away afterwards, except `cache`,
 * which must outlive the context.
 *
 * Keys and certificates come from chain_files (Postfix's order: key1, cert1,
 * [chain1], key2, cert2, ... across the listed files) or, when that is
 * empty, from the legacy RSA, ECDSA and DSA cert/key file pairs. Every key
 * must match its certificate. CAfile/CApath are the trust anchors for
 * client certificates (ask_ccert, req_ccert) and the CA names sent with the
 * request. dh_param_file replaces OpenSSL's built-in DHE groups.
 *
 * Resumption: session tickets (RFC 5077, TLS 1.2 and 1.3) when
 * session_timeout > 0 and tls_ssl_options does not say NO_TICKET, with
 * ticket keys used for `session_timeout` seconds and accepted (and the
 * ticket renewed) for as long again, made in-process or, with
 * `ticket_keys`, obtained there (smtpd: tls_mgr_ticket_key(), so every
 * process shares them; tls_ticket.h); and, when `cache`
 * is set, a server-side session cache keyed by session ID (TLS 1.2 IDs, and
 * TLS 1.3 stateful tickets when tickets are off).
 *
 * Per connection: tls_server_start() runs the handshake on the stream's
 * descriptor within `timeout` seconds (smtpd_starttls_timeout). It first
 * flushes the stream and discards its buffered input (recorded in
 * out->plaintext_dropped), then installs TLS under the stream. On success it
 * returns the session (end it with tls_session_stop()) and fills `out`
 * (tls_session_info_free() later); with loglevel >= 1 it logs the summary
 * line "... TLS connection established from NAMADDR: ...". On failure it logs
 * why (OpenSSL's errors as "warning: TLS library problem: ...") and returns
 * NULL; the stream is then unusable and the caller ends the session.
 * With req_ccert a client without a trusted certificate fails the handshake.
 *
 * tls_server_set_sni() installs a lookup for tls_server_sni_maps (the maps
 * library belongs to the caller): given the client's lower-cased server
 * name it returns 1 with PEM text in `pem` (keys and chains in chain_files
 * order), 0 for none (the default certificate is used) or -1 for a lookup
 * error (the handshake fails).
 */
#ifndef POSTERN_TLS_SERVER_H
#define POSTERN_TLS_SERVER_H

#include "stream.h"
#include "strbuf.h"
#include "tls.h"
#include "tls_scache.h"
#include "tls_ticket.h"

typedef struct tls_server_ctx tls_server_ctx;

typedef struct tls_server_config {
    int     loglevel;                   /* smtpd_tls_loglevel */
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
    const char *protocols;              /* for the level in effect */
    const char *cipher_grade;
    const char *exclude_ciphers;
    const char *mandatory_exclude_ciphers;      /* also excluded; "" below encrypt */
    const char *dh_param_file;
    const char *eecdh_grade;            /* auto, strong, ultra */
    const char *ssl_options;            /* tls_ssl_options */
    int     preempt_cipherlist;
    const char *fingerprint_digest;
    int     ask_ccert;
    int     req_ccert;
    int     ccert_verifydepth;
    int     session_timeout;            /* seconds; 0 disables resumption */
    const char *ticket_cipher;          /* tls_session_ticket_cipher */
    tls_scache *cache;                  /* or NULL */
    tls_ticket_key_fn ticket_keys;      /* shared ticket keys (tlsmgr), or NULL */
    const char *service;                /* session ID context, e.g. "smtpd" */
} tls_server_config;

typedef int (*tls_sni_lookup_fn)(const char *servername, strbuf *pem, void *context);

void    tls_server_config_init(tls_server_config *cfg, enum tls_level level);
tls_server_ctx *tls_server_init(const tls_server_config *cfg, strbuf *why);
void    tls_server_set_sni(tls_server_ctx *ctx, tls_sni_lookup_fn lookup, void *context);
tls_session *tls_server_start(tls_server_ctx *ctx, stream *s, int timeout,
                              const char *namaddr, tls_session_info *out);
void    tls_server_free(tls_server_ctx *ctx);

#endif

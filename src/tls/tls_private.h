/*
 * tls_private - what the modules of the TLS library share with each other.
 * Not for callers: they use tls.h, tls_server.h, tls_client.h,
 * tls_policy.h and tls_scache.h.
 *
 * A tls_session is one TLS connection: the OpenSSL object, the descriptor
 * (made non-blocking for the session's life; its flags are restored at the
 * end), the peer's name for logs, the first certificate verification
 * problem, and for the client the session-cache state. The SSL object
 * points back to it (ex_data), so OpenSSL callbacks find it.
 */
#ifndef POSTERN_TLS_PRIVATE_H
#define POSTERN_TLS_PRIVATE_H

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "stream.h"
#include "strbuf.h"
#include "tls.h"
#include "tls_scache.h"
#include "tls_ticket.h"

#define TLS_NAME_MAX        64          /* X.520 ub-common-name */

typedef struct tls_verify_state {
    int     error;                      /* first X509_V_ERR_*, 0 for none */
    int     depth;
    char   *issuer;                     /* one-line issuer name for that error */
} tls_verify_state;

struct tls_session {
    SSL    *ssl;
    int     fd;
    int     fd_flags;                   /* to restore */
    int     client_side;
    int     loglevel;
    int     must_verify;                /* verification failures are logged */
    int     fail_on_verify_error;       /* server with req_ccert */
    int     failed;                     /* a fatal error: no close_notify */
    int     ticketed;                   /* server: resumed from a session ticket */
    char   *namaddr;
    tls_verify_state verify;
    tls_scache *cache;                  /* client: where new sessions go */
    char   *cache_key;
    int     cache_ok;                   /* the level's check passed */
    SSL_SESSION *pending_session;       /* arrived before the check */
};

typedef struct tls_key_files {
    const char *chain_files;
    const char *cert_file;
    const char *key_file;
    const char *eccert_file;
    const char *eckey_file;
    const char *dcert_file;
    const char *dkey_file;
} tls_key_files;

/* tls_io.c: sessions, handshakes, stream plumbing, errors, clock. */
int     tls_session_index(void);
tls_session *tls_session_new(SSL *ssl, int fd, int client_side, const char *namaddr,
                             int loglevel);
void    tls_session_free(tls_session *session);
size_t  tls_discard_plaintext(stream *s);
int     tls_handshake(tls_session *session, int timeout, const char *what);
void    tls_install_io(stream *s, tls_session *session);
void    tls_detach_io(stream *s);
void    tls_log_errors(void);
time_t  tls_now(void);

/* tls_info.c: what an established session looks like. */
void    tls_session_info_fill(tls_session *session, const char *digest,
                              tls_session_info *out);
int     tls_fingerprint(X509 *cert, int public_key, const char *digest, strbuf *out);
void    tls_text_name(X509_NAME *name, int nid, const char *label, strbuf *out);

/* tls_certs.c: keys, certificates, trust anchors, DH and curves. */
int     tls_load_keys(SSL_CTX *ctx, const tls_key_files *files, strbuf *why);
int     tls_use_chain_pem(SSL *ssl, const char *pem, size_t len, const char *origin,
                          strbuf *why);
int     tls_load_trust(SSL_CTX *ctx, const char *CAfile, const char *CApath,
                       int append_default, strbuf *why);
int     tls_load_dh(SSL_CTX *ctx, const char *path, strbuf *why);
int     tls_set_curves(SSL_CTX *ctx, const char *grade, strbuf *why);

/* tls_proto.c: protocol ranges, cipher lists, options. */
int     tls_protocol_range(int mask, int *min_version, int *max_version,
                           unsigned long *holes, strbuf *why);
int     tls_apply_protocols(SSL_CTX *ctx, SSL *ssl, const char *text, strbuf *why);
int     tls_apply_ciphers(SSL_CTX *ctx, SSL *ssl, const char *grade, const char *exclude,
                          strbuf *why);
int     tls_apply_options(SSL_CTX *ctx, const char *text, strbuf *why);

/* tls_verify.c: certificate verification results. */
int     tls_verify_callback(int preverify_ok, X509_STORE_CTX *store);
void    tls_verify_message(const tls_session *session, strbuf *out);
void    tls_verify_state_free(tls_verify_state *state);

/* tls_ticket.c: the server's ticket callback over a key store (tls_ticket.h). */
typedef struct tls_ticket_ring tls_ticket_ring;
tls_ticket_ring *tls_ticket_ring_new(const char *cipher, int lifetime,
                                     tls_ticket_key_fn source, strbuf *why);
int     tls_ticket_enable(SSL_CTX *ctx, tls_ticket_ring *ring);
void    tls_ticket_ring_free(tls_ticket_ring *ring);

#endif

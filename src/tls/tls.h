/*
 * tls - what the TLS server and client have in common: security levels,
 * the description of an established session, its log line and Received:
 * header text, and switching a stream back off TLS.
 *
 * The library is built on OpenSSL 3. A daemon creates a server context
 * (tls_server.h) or client context (tls_client.h) once, before chroot while
 * the key files are readable, and then starts TLS per connection on an
 * existing stream: the handshake runs on the stream's descriptor and the
 * stream's I/O functions are replaced (stream_set_io), so the SMTP code keeps
 * reading and writing the same stream. Starting TLS first discards any
 * plaintext the stream had buffered (CVE-2011-0411: commands pipelined
 * after STARTTLS must not be executed as if they had come over TLS).
 *
 * tls_session_info describes an established session: protocol, cipher and
 * strengths, TLS 1.3 key exchange and signature details (as Postfix 3.7
 * logs them), whether the session was resumed, and the peer certificate:
 * present, trusted (its chain verified), matched (client side: the name,
 * fingerprint or DANE check the level asked for succeeded), its subject and
 * issuer CommonName (sanitized: printable ASCII only, at most 64 characters)
 * and the fingerprints of the certificate and of its public key in
 * Postfix's "AB:CD:..." form with the configured digest. Its strings are
 * owned by the structure; tls_session_info_free() releases them, after a
 * failed start too (the client's failure_reason lives there).
 *
 * tls_session_summary() formats Postfix's log line, e.g.
 *     Anonymous TLS connection established from host[addr]: TLSv1.3 with
 *     cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519
 *     server-signature RSA-PSS (2048 bits) server-digest SHA256
 * (Anonymous: no peer certificate; Untrusted: not verified; Trusted: chain
 * verified; Verified: chain or fingerprint and name matched, client side).
 * tls_received_lines() appends to `lines` the Received: header continuation
 * lines (each starting with a TAB, without line end) that smtpd inserts
 * after "from ..." when smtpd_tls_received_header = yes.
 *
 * tls_session_stop() ends TLS on a stream: it flushes, sends close_notify
 * when `graceful`, frees the session and leaves the stream with I/O
 * functions that fail, so the caller closes it next. 0, or -1 when the
 * flush or close_notify failed.
 *
 * tls_session_pending() is 1 when OpenSSL holds decrypted bytes that the
 * stream has not read yet (smtpd's pipelining check).
 *
 * tls_set_clock() replaces time(NULL) for ticket-key rotation and session
 * cache expiry (tests); NULL restores the real clock.
 */
#ifndef POSTERN_TLS_H
#define POSTERN_TLS_H

#include <time.h>

#include "argv.h"
#include "stream.h"
#include "strbuf.h"

enum tls_level {
    TLS_LEV_INVALID = -1,
    TLS_LEV_NONE,                       /* no TLS */
    TLS_LEV_MAY,                        /* opportunistic */
    TLS_LEV_ENCRYPT,                    /* mandatory, unauthenticated */
    TLS_LEV_DANE,                       /* DANE when TLSA records exist, else may */
    TLS_LEV_DANE_ONLY,                  /* mandatory DANE */
    TLS_LEV_FPRINT,                     /* certificate or key fingerprint */
    TLS_LEV_VERIFY,                     /* CA chain and name */
    TLS_LEV_SECURE,                     /* CA chain and name from a secure source */
};

typedef struct tls_session tls_session;

typedef struct tls_session_info {
    char   *protocol;                   /* "TLSv1.3" */
    char   *cipher_name;
    int     cipher_usebits;
    int     cipher_algbits;
    char   *kex_name;                   /* TLS 1.3: "X25519", "ECDHE", "DHE" */
    char   *kex_curve;                  /* "prime256v1" for ECDHE */
    int     kex_bits;                   /* DHE group size */
    char   *server_sig_name;            /* "RSA-PSS", "ECDSA", ... */
    char   *server_sig_curve;
    int     server_sig_bits;
    char   *server_sig_digest;          /* "SHA256" */
    char   *client_sig_name;
    char   *client_sig_curve;
    int     client_sig_bits;
    char   *client_sig_digest;
    int     resumed;                    /* an abbreviated handshake */
    int     ccert_requested;            /* server: a client certificate was asked for */
    int     peer_cert;                  /* the peer presented a certificate */
    int     peer_trusted;               /* and its chain verified */
    int     peer_matched;               /* client: and the level's match succeeded */
    char   *peer_CN;                    /* "" when absent */
    char   *issuer_CN;                  /* the issuer's CN, else its O; "" */
    char   *peer_cert_fprint;           /* "AB:CD:..." or "" */
    char   *peer_pkey_fprint;
    char   *verify_error;               /* first verification problem, or NULL */
    char   *failure_reason;             /* client: why start failed, or NULL */
    size_t  plaintext_dropped;          /* buffered plaintext bytes discarded */
} tls_session_info;

void    tls_session_info_free(tls_session_info *info);
void    tls_session_summary(const tls_session_info *info, int client_side,
                            const char *namaddr, strbuf *out);
void    tls_received_lines(const tls_session_info *info, argv_t *lines);
int     tls_session_stop(tls_session *session, stream *s, int graceful);
int     tls_session_pending(const tls_session *session);
void    tls_set_clock(time_t (*clock)(void));

/*
 * Configuration helpers, shared by both sides and usable to check main.cf
 * values early:
 *
 * tls_protocols_parse() reads a protocol list in any of Postfix's forms,
 * ">=TLSv1.2", "<=TLSv1.2", "TLSv1.2 TLSv1.3", "!SSLv2, !SSLv3, !TLSv1"
 * (comma, space or colon separated; names SSLv2, SSLv3, TLSv1, TLSv1.1,
 * TLSv1.2, TLSv1.3, case-insensitive), into a mask of TLS_PROTOCOL_* bits:
 * the named protocols (all when none is named), within the bounds, minus
 * the exclusions. An unknown name to exclude is ignored (a newer protocol
 * than this library knows); elsewhere it is an error, as is a list that
 * leaves nothing. 0, or -1 with a reason in `why`.
 *
 * tls_cipherlist() turns a cipher grade (high, medium, low, export, null:
 * the tls_<grade>_cipherlist parameters) and an exclusion list
 * ("aNULL, 3DES") into an OpenSSL cipher string. 0, or -1 with `why`.
 *
 * tls_ssl_options_parse() reads tls_ssl_options: names of OpenSSL options
 * (NO_TICKET, NO_COMPRESSION, NO_RENEGOTIATION, LEGACY_SERVER_CONNECT,
 * ENABLE_MIDDLEBOX_COMPAT, PRIORITIZE_CHACHA,
 * NO_SESSION_RESUMPTION_ON_RENEGOTIATION) into a mask. 0, or -1 with `why`.
 */
#define TLS_PROTOCOL_SSLv2    (1 << 0)
#define TLS_PROTOCOL_SSLv3    (1 << 1)
#define TLS_PROTOCOL_TLSv1    (1 << 2)
#define TLS_PROTOCOL_TLSv1_1  (1 << 3)
#define TLS_PROTOCOL_TLSv1_2  (1 << 4)
#define TLS_PROTOCOL_TLSv1_3  (1 << 5)
#define TLS_PROTOCOL_ALL      ((1 << 6) - 1)

int     tls_protocols_parse(const char *text, int *mask, strbuf *why);
int     tls_cipherlist(const char *grade, const char *exclude, strbuf *out, strbuf *why);
int     tls_ssl_options_parse(const char *text, unsigned long *options, strbuf *why);

#endif

/*
 * tls_server - the SMTP server's TLS context and per-connection start.
 * See tls_server.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "tls_policy.h"
#include "tls_private.h"
#include "tls_server.h"

#define SERVERNAME_MAX  255

struct tls_server_ctx {
    SSL_CTX *ssl_ctx;
    int     loglevel;
    int     ask_ccert;
    int     req_ccert;
    char   *fingerprint_digest;
    tls_ticket_ring *tickets;
    tls_scache *cache;
    tls_sni_lookup_fn sni_lookup;
    void   *sni_context;
};

void tls_server_config_init(tls_server_config *cfg, enum tls_level level)
{
    int     mandatory = level >= TLS_LEV_ENCRYPT;

    memset(cfg, 0, sizeof(*cfg));
    cfg->loglevel = var_smtpd_tls_loglevel;
    cfg->chain_files = var_smtpd_tls_chain_files;
    cfg->cert_file = var_smtpd_tls_cert_file;
    cfg->key_file = var_smtpd_tls_key_file;
    cfg->eccert_file = var_smtpd_tls_eccert_file;
    cfg->eckey_file = var_smtpd_tls_eckey_file;
    cfg->dcert_file = var_smtpd_tls_dcert_file;
    cfg->dkey_file = var_smtpd_tls_dkey_file;
    cfg->CAfile = var_smtpd_tls_CAfile;
    cfg->CApath = var_smtpd_tls_CApath;
    cfg->append_default_CA = var_tls_append_default_CA;
    cfg->protocols = mandatory ? var_smtpd_tls_mandatory_protocols : var_smtpd_tls_protocols;
    cfg->cipher_grade = mandatory ? var_smtpd_tls_mandatory_ciphers : var_smtpd_tls_ciphers;
    cfg->exclude_ciphers = var_smtpd_tls_exclude_ciphers;
    cfg->mandatory_exclude_ciphers = mandatory ? var_smtpd_tls_mandatory_exclude_ciphers : "";
    cfg->dh_param_file = var_smtpd_tls_dh1024_param_file;
    cfg->eecdh_grade = var_smtpd_tls_eecdh_grade;
    cfg->ssl_options = var_tls_ssl_options;
    cfg->preempt_cipherlist = var_tls_preempt_cipherlist;
    cfg->fingerprint_digest = var_smtpd_tls_fingerprint_digest;
    cfg->ask_ccert = var_smtpd_tls_ask_ccert;
    cfg->req_ccert = var_smtpd_tls_req_ccert && mandatory;
    cfg->ccert_verifydepth = var_smtpd_tls_ccert_verifydepth;
    cfg->session_timeout = var_smtpd_tls_session_cache_timeout;
    cfg->ticket_cipher = var_tls_session_ticket_cipher;
    cfg->service = "smtpd";
}

/* Server-side session cache callbacks: the cache is keyed by hex session ID. */

static void session_id_key(const unsigned char *id, unsigned int len, strbuf *key)
{
    strbuf_reset(key);
    for (unsigned int i = 0; i < len; i++)
        strbuf_append_printf(key, "%02x", id[i]);
}

static tls_server_ctx *server_ctx_of(SSL_CTX *ssl_ctx)
{
    return SSL_CTX_get_app_data(ssl_ctx);
}

static int cache_new_session(SSL *ssl, SSL_SESSION *session)
{
    tls_server_ctx *ctx = server_ctx_of(SSL_get_SSL_CTX(ssl));
    strbuf *key = strbuf_new(64);
    strbuf *der = strbuf_new(512);
    unsigned int id_len;
    const unsigned char *id = SSL_SESSION_get_id(session, &id_len);

    if (id_len > 0 && tls_session_to_der(session, der) == 0) {
        session_id_key(id, id_len, key);
        (void) tls_scache_store(ctx->cache, key->data, der->data, der->len);
    }
    strbuf_free(key);
    strbuf_free(der);
    return 0;                           /* OpenSSL keeps its reference */
}

static SSL_SESSION *cache_get_session(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    tls_server_ctx *ctx = server_ctx_of(SSL_get_SSL_CTX(ssl));
    strbuf *key = strbuf_new(64);
    strbuf *der = strbuf_new(512);
    SSL_SESSION *session = NULL;

    *copy = 0;                          /* the caller owns what we return */
    if (len > 0 && len <= SSL_MAX_SSL_SESSION_ID_LENGTH) {
        session_id_key(id, (unsigned int) len, key);
        if (tls_scache_fetch(ctx->cache, key->data, der) == 1
            && (session = tls_session_from_der(der->data, der->len)) == NULL)
            (void) tls_scache_remove(ctx->cache, key->data);
    }
    strbuf_free(key);
    strbuf_free(der);
    return session;
}

static void cache_remove_session(SSL_CTX *ssl_ctx, SSL_SESSION *session)
{
    tls_server_ctx *ctx = server_ctx_of(ssl_ctx);
    strbuf *key = strbuf_new(64);
    unsigned int id_len;
    const unsigned char *id = SSL_SESSION_get_id(session, &id_len);

    if (id_len > 0) {
        session_id_key(id, id_len, key);
        (void) tls_scache_remove(ctx->cache, key->data);
    }
    strbuf_free(key);
}

static int setup_resumption(tls_server_ctx *ctx, const tls_server_config *cfg, strbuf *why)
{
    SSL_CTX *ssl_ctx = ctx->ssl_ctx;

    if (cfg->session_timeout <= 0) {
        SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ssl_ctx, 0);
        SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
        return 0;
    }
    SSL_CTX_set_timeout(ssl_ctx, cfg->session_timeout);
    SSL_CTX_set_num_tickets(ssl_ctx, 1);
    if (!(SSL_CTX_get_options(ssl_ctx) & SSL_OP_NO_TICKET)) {
        if ((ctx->tickets = tls_ticket_ring_new(cfg->ticket_cipher ? cfg->ticket_cipher :
                                                "aes-256-cbc", cfg->session_timeout,
                                                cfg->ticket_keys, why)) == NULL)
            return -1;
        if (tls_ticket_enable(ssl_ctx, ctx->tickets) < 0) {
            strbuf_set(why, "cannot enable TLS session tickets");
            return -1;
        }
    }
    if ((ctx->cache = cfg->cache) == NULL) {
        SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
        return 0;
    }
    SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL
                                   | SSL_SESS_CACHE_NO_AUTO_CLEAR);
    SSL_CTX_sess_set_new_cb(ssl_ctx, cache_new_session);
    SSL_CTX_sess_set_get_cb(ssl_ctx, cache_get_session);
    SSL_CTX_sess_set_remove_cb(ssl_ctx, cache_remove_session);
    return 0;
}

static int setup_client_certs(tls_server_ctx *ctx, const tls_server_config *cfg, strbuf *why)
{
    const char *service = cfg->service ? cfg->service : "smtpd";

    if (strlen(service) > SSL_MAX_SID_CTX_LENGTH
        || !SSL_CTX_set_session_id_context(ctx->ssl_ctx, (const unsigned char *) service,
                                           (unsigned int) strlen(service))) {
        strbuf_printf(why, "invalid session ID context \"%s\"", service);
        return -1;
    }
    if (!ctx->ask_ccert)
        return 0;
    SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_PEER | (ctx->req_ccert ?
                            SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), tls_verify_callback);
    SSL_CTX_set_verify_depth(ctx->ssl_ctx, cfg->ccert_verifydepth > 0 ?
                             cfg->ccert_verifydepth : 9);
    if (cfg->CAfile && *cfg->CAfile) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->CAfile);

        if (names == NULL) {
            tls_log_errors();
            strbuf_printf(why, "cannot load CA names from %s", cfg->CAfile);
            return -1;
        }
        SSL_CTX_set_client_CA_list(ctx->ssl_ctx, names);
    }
    return 0;
}

static int setup_crypto(tls_server_ctx *ctx, const tls_server_config *cfg, strbuf *why)
{
    tls_key_files files = {cfg->chain_files, cfg->cert_file, cfg->key_file, cfg->eccert_file,
    cfg->eckey_file, cfg->dcert_file, cfg->dkey_file};
    strbuf *exclude = strbuf_new(64);
    int     result = -1;
    int     keys;

    strbuf_printf(exclude, "%s %s", cfg->exclude_ciphers ? cfg->exclude_ciphers : "",
                  cfg->mandatory_exclude_ciphers ? cfg->mandatory_exclude_ciphers : "");
    if (tls_apply_options(ctx->ssl_ctx, cfg->ssl_options, why) == 0
        && tls_apply_protocols(ctx->ssl_ctx, NULL, cfg->protocols, why) == 0
        && tls_apply_ciphers(ctx->ssl_ctx, NULL, cfg->cipher_grade ? cfg->cipher_grade :
                             "medium", exclude->data, why) == 0
        && (keys = tls_load_keys(ctx->ssl_ctx, &files, why)) >= 0
        && tls_load_trust(ctx->ssl_ctx, cfg->CAfile, cfg->CApath, cfg->append_default_CA,
                          why) == 0
        && tls_load_dh(ctx->ssl_ctx, cfg->dh_param_file, why) == 0
        && tls_set_curves(ctx->ssl_ctx, cfg->eecdh_grade, why) == 0) {
        if (keys == 0)
            strbuf_set(why, "no server certificate and key configured");
        else
            result = 0;
    }
    if (cfg->preempt_cipherlist)
        SSL_CTX_set_options(ctx->ssl_ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    strbuf_free(exclude);
    return result;
}

tls_server_ctx *tls_server_init(const tls_server_config *cfg, strbuf *why)
{
    tls_server_ctx *ctx = xcalloc(1, sizeof(*ctx));

    (void) tls_session_index();
    ctx->loglevel = cfg->loglevel;
    ctx->ask_ccert = cfg->ask_ccert || cfg->req_ccert;
    ctx->req_ccert = cfg->req_ccert;
    ctx->fingerprint_digest = xstrdup(cfg->fingerprint_digest && *cfg->fingerprint_digest ?
                                      cfg->fingerprint_digest : "sha256");
    if (EVP_get_digestbyname(ctx->fingerprint_digest) == NULL) {
        strbuf_printf(why, "invalid fingerprint digest \"%s\"", ctx->fingerprint_digest);
        tls_server_free(ctx);
        return NULL;
    }
    if ((ctx->ssl_ctx = SSL_CTX_new(TLS_server_method())) == NULL)
        msg_fatal("cannot allocate an OpenSSL server context");
    SSL_CTX_set_app_data(ctx->ssl_ctx, ctx);
    if (setup_crypto(ctx, cfg, why) < 0 || setup_client_certs(ctx, cfg, why) < 0
        || setup_resumption(ctx, cfg, why) < 0) {
        ERR_clear_error();
        tls_server_free(ctx);
        return NULL;
    }
    return ctx;
}

void tls_server_free(tls_server_ctx *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    tls_ticket_ring_free(ctx->tickets);
    free(ctx->fingerprint_digest);
    free(ctx);
}

/* SNI: a syntactically valid host name, looked up lower-cased. */

static int servername_valid(const char *name)
{
    size_t  len = strlen(name);

    if (len == 0 || len > SERVERNAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char) name[i]) && name[i] != '-' && name[i] != '.'
            && name[i] != '_')
            return 0;
    return 1;
}

static int sni_use(SSL *ssl, tls_server_ctx *ctx, const char *name, int *alert)
{
    strbuf *pem = strbuf_new(4096);
    strbuf *why = strbuf_new(64);
    int     status = ctx->sni_lookup(name, pem, ctx->sni_context);
    int     result = SSL_TLSEXT_ERR_NOACK;

    if (status < 0) {
        msg_warn("TLS SNI: table lookup error for \"%s\"", name);
        result = SSL_TLSEXT_ERR_ALERT_FATAL;
    } else if (status > 0) {
        SSL_certs_clear(ssl);
        if (tls_use_chain_pem(ssl, pem->data, pem->len, name, why) < 0) {
            msg_warn("TLS SNI: %s", why->data);
            result = SSL_TLSEXT_ERR_ALERT_FATAL;
        } else {
            result = SSL_TLSEXT_ERR_OK;
        }
    }
    if (result == SSL_TLSEXT_ERR_ALERT_FATAL)
        *alert = SSL_AD_INTERNAL_ERROR;
    OPENSSL_cleanse(pem->data, pem->len);
    strbuf_free(pem);
    strbuf_free(why);
    return result;
}

static int sni_callback(SSL *ssl, int *alert, void *context)
{
    tls_server_ctx *ctx = context;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    strbuf *lower;
    int     result;

    if (name == NULL || ctx->sni_lookup == NULL)
        return SSL_TLSEXT_ERR_NOACK;
    if (!servername_valid(name)) {
        msg_warn("TLS SNI: malformed server name from client: ignored");
        return SSL_TLSEXT_ERR_NOACK;
    }
    lower = strbuf_from(name);
    strbuf_lowercase(lower);
    result = sni_use(ssl, ctx, lower->data, alert);
    strbuf_free(lower);
    return result;
}

void tls_server_set_sni(tls_server_ctx *ctx, tls_sni_lookup_fn lookup, void *context)
{
    ctx->sni_lookup = lookup;
    ctx->sni_context = context;
    SSL_CTX_set_tlsext_servername_callback(ctx->ssl_ctx, sni_callback);
    SSL_CTX_set_tlsext_servername_arg(ctx->ssl_ctx, ctx);
}

static void log_session(const tls_server_ctx *ctx, const tls_session *session,
                        const tls_session_info *info)
{
    strbuf *line = strbuf_new(256);

    if (info->verify_error && (ctx->loglevel >= 2 || (ctx->loglevel >= 1 && ctx->req_ccert)))
        msg_info("%s", info->verify_error);
    if (info->resumed && ctx->loglevel >= 2)
        msg_info("%s: Reusing old session%s", session->namaddr,
                 session->ticketed ? " (RFC 5077 session ticket)" : "");
    if (ctx->loglevel >= 1) {
        tls_session_summary(info, 0, session->namaddr, line);
        msg_info("%s", line->data);
    }
    strbuf_free(line);
}

tls_session *tls_server_start(tls_server_ctx *ctx, stream *s, int timeout,
                              const char *namaddr, tls_session_info *out)
{
    tls_session *session;
    SSL    *ssl;

    memset(out, 0, sizeof(*out));
    if (stream_flush(s) < 0)
        return NULL;
    out->plaintext_dropped = tls_discard_plaintext(s);
    if ((ssl = SSL_new(ctx->ssl_ctx)) == NULL || !SSL_set_fd(ssl, s->fd))
        msg_fatal("cannot allocate an OpenSSL connection");
    SSL_set_accept_state(ssl);
    session = tls_session_new(ssl, s->fd, 0, namaddr, ctx->loglevel);
    session->fail_on_verify_error = ctx->req_ccert;
    if (tls_handshake(session, timeout, "SSL_accept error from") < 0) {
        tls_session_free(session);
        tls_detach_io(s);
        return NULL;
    }
    tls_session_info_fill(session, ctx->fingerprint_digest, out);
    out->ccert_requested = ctx->ask_ccert;
    if (out->peer_cert && !out->peer_trusted) {
        strbuf *text = strbuf_new(128);

        tls_verify_message(session, text);
        out->verify_error = strbuf_steal(text);
    }
    log_session(ctx, session, out);
    tls_install_io(s, session);
    return session;
}

/*
 * tls_client - the SMTP client's TLS context and per-connection start:
 * SNI, the level's certificate check (names, fingerprints, DANE), and
 * session reuse. See tls_client.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "argv.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "tls_client.h"
#include "tls_private.h"

#define FINGERPRINT_MTYPE   255         /* private TLSA matching type: our digest */
#define DANE_EE             3
#define SELECTOR_CERT       0
#define SELECTOR_PKEY       1

struct tls_client_ctx {
    SSL_CTX *ssl_ctx;
    int     loglevel;
    char   *fingerprint_digest;
    tls_client_config cfg;              /* strings owned by the parameters */
    tls_scache *cache;
};

/* One parameter family: smtp_tls_* or lmtp_tls_*. */
#define CLIENT_CONFIG(cfg, family) do { \
    memset((cfg), 0, sizeof(*(cfg))); \
    (cfg)->loglevel = var_##family##_tls_loglevel; \
    (cfg)->chain_files = var_##family##_tls_chain_files; \
    (cfg)->cert_file = var_##family##_tls_cert_file; \
    (cfg)->key_file = var_##family##_tls_key_file; \
    (cfg)->eccert_file = var_##family##_tls_eccert_file; \
    (cfg)->eckey_file = var_##family##_tls_eckey_file; \
    (cfg)->dcert_file = var_##family##_tls_dcert_file; \
    (cfg)->dkey_file = var_##family##_tls_dkey_file; \
    (cfg)->CAfile = var_##family##_tls_CAfile; \
    (cfg)->CApath = var_##family##_tls_CApath; \
    (cfg)->append_default_CA = var_tls_append_default_CA; \
    (cfg)->protocols = var_##family##_tls_protocols; \
    (cfg)->mandatory_protocols = var_##family##_tls_mandatory_protocols; \
    (cfg)->ciphers = var_##family##_tls_ciphers; \
    (cfg)->mandatory_ciphers = var_##family##_tls_mandatory_ciphers; \
    (cfg)->exclude_ciphers = var_##family##_tls_exclude_ciphers; \
    (cfg)->mandatory_exclude_ciphers = var_##family##_tls_mandatory_exclude_ciphers; \
    (cfg)->ssl_options = var_tls_ssl_options; \
    (cfg)->fingerprint_digest = var_##family##_tls_fingerprint_digest; \
    (cfg)->verify_cert_match = var_##family##_tls_verify_cert_match; \
    (cfg)->secure_cert_match = var_##family##_tls_secure_cert_match; \
    (cfg)->fingerprint_cert_match = var_##family##_tls_fingerprint_cert_match; \
    (cfg)->servername = var_##family##_tls_servername; \
    (cfg)->verifydepth = var_##family##_tls_scert_verifydepth; \
    (cfg)->wildcard_multiple_labels = var_tls_wildcard_matches_multiple_labels; \
} while (0)

void tls_client_config_init(tls_client_config *cfg)
{
    CLIENT_CONFIG(cfg, smtp);
}

void tls_client_config_init_lmtp(tls_client_config *cfg)
{
    CLIENT_CONFIG(cfg, lmtp);
}

/* New sessions go to the cache only once the level's check has passed. */
static void store_session(tls_session *session, SSL_SESSION *ssl_session)
{
    strbuf *der = strbuf_new(512);

    if (tls_session_to_der(ssl_session, der) == 0)
        (void) tls_scache_store(session->cache, session->cache_key, der->data, der->len);
    OPENSSL_cleanse(der->data, der->len);
    strbuf_free(der);
}

static int client_new_session(SSL *ssl, SSL_SESSION *ssl_session)
{
    tls_session *session = SSL_get_ex_data(ssl, tls_session_index());

    if (session == NULL || session->cache == NULL || !SSL_SESSION_is_resumable(ssl_session))
        return 0;
    if (session->cache_ok) {
        store_session(session, ssl_session);
        return 0;
    }
    SSL_SESSION_free(session->pending_session);
    session->pending_session = ssl_session;
    return 1;                           /* we keep the reference */
}

static char *copy_or_empty(const char *text)
{
    return xstrdup(text ? text : "");
}

static void copy_config(tls_client_config *copy, const tls_client_config *cfg)
{
    *copy = *cfg;
    copy->protocols = copy_or_empty(cfg->protocols);
    copy->mandatory_protocols = copy_or_empty(cfg->mandatory_protocols);
    copy->ciphers = copy_or_empty(cfg->ciphers && *cfg->ciphers ? cfg->ciphers : "medium");
    copy->mandatory_ciphers = copy_or_empty(cfg->mandatory_ciphers && *cfg->mandatory_ciphers ?
                                            cfg->mandatory_ciphers : "medium");
    copy->exclude_ciphers = copy_or_empty(cfg->exclude_ciphers);
    copy->mandatory_exclude_ciphers = copy_or_empty(cfg->mandatory_exclude_ciphers);
    copy->verify_cert_match = copy_or_empty(cfg->verify_cert_match);
    copy->secure_cert_match = copy_or_empty(cfg->secure_cert_match);
    copy->fingerprint_cert_match = copy_or_empty(cfg->fingerprint_cert_match);
    copy->servername = copy_or_empty(cfg->servername);
}

static void free_config(tls_client_config *copy)
{
    const char *strings[] = {copy->protocols, copy->mandatory_protocols, copy->ciphers,
        copy->mandatory_ciphers, copy->exclude_ciphers, copy->mandatory_exclude_ciphers,
        copy->verify_cert_match, copy->secure_cert_match, copy->fingerprint_cert_match,
    copy->servername};

    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        free((char *) strings[i]);
}

static int setup_client_ctx(tls_client_ctx *ctx, const tls_client_config *cfg, strbuf *why)
{
    tls_key_files files = {cfg->chain_files, cfg->cert_file, cfg->key_file, cfg->eccert_file,
    cfg->eckey_file, cfg->dcert_file, cfg->dkey_file};
    const EVP_MD *md = EVP_get_digestbyname(ctx->fingerprint_digest);
    SSL_CTX *ssl_ctx = ctx->ssl_ctx;

    if (md == NULL) {
        strbuf_printf(why, "invalid fingerprint digest \"%s\"", ctx->fingerprint_digest);
        return -1;
    }
    if (tls_apply_options(ssl_ctx, cfg->ssl_options, why) < 0
        || tls_load_keys(ssl_ctx, &files, why) < 0
        || tls_load_trust(ssl_ctx, cfg->CAfile, cfg->CApath, cfg->append_default_CA, why) < 0)
        return -1;
    if (SSL_CTX_dane_enable(ssl_ctx) <= 0
        || SSL_CTX_dane_mtype_set(ssl_ctx, md, FINGERPRINT_MTYPE, 1) <= 0) {
        strbuf_set(why, "cannot enable DANE support in OpenSSL");
        return -1;
    }
    SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, tls_verify_callback);
    SSL_CTX_set_verify_depth(ssl_ctx, cfg->verifydepth > 0 ? cfg->verifydepth : 9);
    SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_CLIENT
                                   | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ssl_ctx, client_new_session);
    return 0;
}

tls_client_ctx *tls_client_init(const tls_client_config *cfg, strbuf *why)
{
    tls_client_ctx *ctx = xcalloc(1, sizeof(*ctx));

    (void) tls_session_index();
    ctx->loglevel = cfg->loglevel;
    ctx->cache = cfg->cache;
    ctx->fingerprint_digest = xstrdup(cfg->fingerprint_digest && *cfg->fingerprint_digest ?
                                      cfg->fingerprint_digest : "sha256");
    copy_config(&ctx->cfg, cfg);
    if ((ctx->ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
        msg_fatal("cannot allocate an OpenSSL client context");
    if (setup_client_ctx(ctx, cfg, why) < 0) {
        ERR_clear_error();
        tls_client_free(ctx);
        return NULL;
    }
    return ctx;
}

void tls_client_free(tls_client_ctx *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    free_config(&ctx->cfg);
    free(ctx->fingerprint_digest);
    free(ctx);
}

/* Per-connection settings. */

typedef struct client_plan {
    const char *protocols;
    const char *ciphers;
    strbuf *exclude;
    argv_t *names;                      /* verify/secure reference names */
    argv_t *fingerprints;               /* fingerprint level */
    const char *servername;             /* SNI, or NULL */
    int     no_usable_match;            /* nothing to match against: fail */
    strbuf *digest_input;               /* what the session cache key covers */
} client_plan;

static int is_ip_address(const char *name)
{
    unsigned char addr[16];

    return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

static int dns_name_valid(const char *name)
{
    size_t  len = name ? strlen(name) : 0;

    if (len == 0 || len > 255 || is_ip_address(name))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char) name[i]) && name[i] != '-' && name[i] != '.'
            && name[i] != '_')
            return 0;
    return 1;
}

static const char *choose_servername(const tls_client_ctx *ctx, const tls_client_params *p)
{
    const char *choice = p->policy && p->policy->servername ? p->policy->servername :
        ctx->cfg.servername;

    if (p->level == TLS_LEV_DANE || p->level == TLS_LEV_DANE_ONLY)
        choice = "hostname";
    if (choice == NULL || *choice == 0)
        return NULL;
    if (strcmp(choice, "hostname") == 0)
        choice = p->host;
    else if (strcmp(choice, "nexthop") == 0)
        choice = p->nexthop;
    return dns_name_valid(choice) ? choice : NULL;
}

/* "hostname", "nexthop", "dot-nexthop", a name or a .domain. */
static void add_reference_name(const char *word, const tls_client_params *p, argv_t *names)
{
    strbuf *name = strbuf_new(64);

    if (strcasecmp(word, "hostname") == 0)
        strbuf_set(name, p->host ? p->host : "");
    else if (strcasecmp(word, "nexthop") == 0)
        strbuf_set(name, p->nexthop ? p->nexthop : "");
    else if (strcasecmp(word, "dot-nexthop") == 0 && p->nexthop && *p->nexthop)
        strbuf_printf(name, ".%s", p->nexthop);
    else if (strcasecmp(word, "dot-nexthop") != 0)
        strbuf_set(name, word);
    while (name->len > 1 && strbuf_last(name) == '.')
        strbuf_truncate(name, name->len - 1);
    strbuf_lowercase(name);
    if (name->len > 0 && !argv_contains(names, name->data))
        argv_add(names, name->data);
    strbuf_free(name);
}

static void plan_names(const tls_client_ctx *ctx, const tls_client_params *p, client_plan *plan)
{
    argv_t *words;

    if (p->policy && p->policy->match)
        words = argv_copy(p->policy->match);
    else
        words = argv_split(p->level == TLS_LEV_SECURE ? ctx->cfg.secure_cert_match :
                           ctx->cfg.verify_cert_match, ARGV_LIST_DELIMITERS ":");
    plan->names = argv_new(4);
    for (size_t i = 0; i < words->count; i++)
        add_reference_name(words->items[i], p, plan->names);
    argv_free(words);
}

static void plan_fingerprints(const tls_client_ctx *ctx, const tls_client_params *p,
                              client_plan *plan)
{
    if (p->policy && p->policy->match)
        plan->fingerprints = argv_copy(p->policy->match);
    else
        plan->fingerprints = argv_split(ctx->cfg.fingerprint_cert_match, ARGV_LIST_DELIMITERS "|");
}

static void plan_digest_input(const tls_client_params *p, client_plan *plan)
{
    argv_t *lists[] = {plan->names, plan->fingerprints};
    strbuf *in = plan->digest_input;

    strbuf_printf(in, "%s\n%s\n%s\n%s\n%s\n", tls_level_name(p->level), plan->protocols,
                  plan->ciphers, plan->exclude->data, plan->servername ? plan->servername : "");
    for (size_t l = 0; l < 2; l++)
        for (size_t i = 0; lists[l] && i < lists[l]->count; i++)
            strbuf_append_printf(in, "%s\n", lists[l]->items[i]);
    for (size_t i = 0; i < p->tlsa_count; i++) {
        strbuf_append_printf(in, "%u %u %u ", p->tlsa[i].usage, p->tlsa[i].selector,
                             p->tlsa[i].mtype);
        for (size_t j = 0; j < p->tlsa[i].len; j++)
            strbuf_append_printf(in, "%02x", p->tlsa[i].data[j]);
        strbuf_append_char(in, '\n');
    }
}

static void plan_init(const tls_client_ctx *ctx, const tls_client_params *p, client_plan *plan)
{
    int     mandatory = tls_level_mandatory(p->level);
    const tls_policy *policy = p->policy;

    memset(plan, 0, sizeof(*plan));
    plan->protocols = policy && policy->protocols ? policy->protocols :
        mandatory ? ctx->cfg.mandatory_protocols : ctx->cfg.protocols;
    plan->ciphers = policy && policy->ciphers ? policy->ciphers :
        mandatory ? ctx->cfg.mandatory_ciphers : ctx->cfg.ciphers;
    plan->exclude = strbuf_new(64);
    strbuf_printf(plan->exclude, "%s %s %s", ctx->cfg.exclude_ciphers,
                  mandatory ? ctx->cfg.mandatory_exclude_ciphers : "",
                  policy && policy->exclude ? policy->exclude : "");
    if (p->level == TLS_LEV_VERIFY || p->level == TLS_LEV_SECURE)
        plan_names(ctx, p, plan);
    if (p->level == TLS_LEV_FPRINT)
        plan_fingerprints(ctx, p, plan);
    plan->servername = choose_servername(ctx, p);
    plan->digest_input = strbuf_new(256);
    plan_digest_input(p, plan);
}

static void plan_free(client_plan *plan)
{
    strbuf_free(plan->exclude);
    strbuf_free(plan->digest_input);
    argv_free(plan->names);
    argv_free(plan->fingerprints);
}

/* Checks: host names for verify/secure. */
static int setup_names(SSL *ssl, const tls_client_ctx *ctx, const client_plan *plan, strbuf *why)
{
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    int     have_host = 0;

    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS
                                    | (ctx->cfg.wildcard_multiple_labels ?
                                       X509_CHECK_FLAG_MULTI_LABEL_WILDCARDS : 0));
    for (size_t i = 0; i < plan->names->count; i++) {
        const char *name = plan->names->items[i];
        int     ok;

        if (is_ip_address(name))
            ok = X509_VERIFY_PARAM_set1_ip_asc(param, name);
        else
            ok = have_host++ ? SSL_add1_host(ssl, name) : SSL_set1_host(ssl, name);
        if (!ok) {
            ERR_clear_error();
            strbuf_printf(why, "invalid certificate match name \"%s\"", name);
            return -1;
        }
    }
    if (plan->names->count == 0) {
        strbuf_set(why, "no certificate match names");
        return -1;
    }
    return 0;
}

static int hex_value(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* "AB:CD:..." or "abcd...": pairs of hex digits, colons between pairs. */
static int fingerprint_bytes(const char *text, strbuf *out)
{
    strbuf_reset(out);
    while (*text) {
        int     high = hex_value((unsigned char) text[0]);
        int     low = high < 0 ? -1 : hex_value((unsigned char) text[1]);

        if (low < 0)
            return -1;
        strbuf_append_char(out, high << 4 | low);
        text += 2;
        if (*text == ':' && text[1] != 0)
            text++;
    }
    return out->len ? 0 : -1;
}

/* Fingerprints as DANE-EE TLSA records of our own digest, as Postfix does. */
static int add_tlsa(SSL *ssl, const tls_session *session, int usage, int selector, int mtype,
                    const unsigned char *data, size_t len, const char *shown)
{
    int     status = SSL_dane_tlsa_add(ssl, (uint8_t) usage, (uint8_t) selector,
                                       (uint8_t) mtype, data, len);

    if (status <= 0) {
        ERR_clear_error();
        msg_warn("%s: unusable TLSA RR: %d %d %d %s", session->namaddr, usage, selector, mtype,
                 shown);
    }
    return status > 0;
}

static int setup_fingerprints(SSL *ssl, const tls_session *session, const client_plan *plan)
{
    strbuf *bytes = strbuf_new(64);
    strbuf *shown = strbuf_new(64);
    int     usable = 0;

    for (size_t i = 0; i < plan->fingerprints->count; i++) {
        const char *text = plan->fingerprints->items[i];

        if (fingerprint_bytes(text, bytes) < 0) {
            msg_warn("%s: malformed fingerprint value: %s", session->namaddr, text);
            continue;
        }
        strbuf_reset(shown);
        for (size_t j = 0; j < bytes->len; j++)
            strbuf_append_printf(shown, "%02X", (unsigned char) bytes->data[j]);
        usable += add_tlsa(ssl, session, DANE_EE, SELECTOR_PKEY, FINGERPRINT_MTYPE,
                           (unsigned char *) bytes->data, bytes->len, shown->data);
        usable += add_tlsa(ssl, session, DANE_EE, SELECTOR_CERT, FINGERPRINT_MTYPE,
                           (unsigned char *) bytes->data, bytes->len, shown->data);
    }
    if (usable == 0)
        msg_warn("%s: all fingerprints unusable", session->namaddr);
    strbuf_free(bytes);
    strbuf_free(shown);
    return usable;
}

static int setup_dane_records(SSL *ssl, const tls_session *session, const tls_client_params *p)
{
    strbuf *shown = strbuf_new(64);
    int     usable = 0;

    if (p->nexthop && dns_name_valid(p->nexthop) && (!p->host || strcasecmp(p->host, p->nexthop)))
        (void) SSL_add1_host(ssl, p->nexthop);
    for (size_t i = 0; i < p->tlsa_count; i++) {
        const tls_tlsa *rr = &p->tlsa[i];

        strbuf_reset(shown);
        for (size_t j = 0; j < rr->len; j++)
            strbuf_append_printf(shown, "%02X", rr->data[j]);
        usable += add_tlsa(ssl, session, rr->usage, rr->selector, rr->mtype, rr->data, rr->len,
                           shown->data);
    }
    strbuf_free(shown);
    return usable;
}

/* The level's check. 0, or -1 with `why` (a configuration problem). */
static int setup_check(SSL *ssl, tls_session *session, const tls_client_ctx *ctx,
                       const tls_client_params *p, client_plan *plan, strbuf *why)
{
    const char *base = p->host && dns_name_valid(p->host) ? p->host : NULL;

    switch (p->level) {
    case TLS_LEV_VERIFY:
    case TLS_LEV_SECURE:
        return setup_names(ssl, ctx, plan, why);
    case TLS_LEV_FPRINT:
        if (SSL_dane_enable(ssl, NULL) <= 0)
            break;
        SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
        plan->no_usable_match = setup_fingerprints(ssl, session, plan) == 0;
        return 0;
    case TLS_LEV_DANE:
    case TLS_LEV_DANE_ONLY:
        if (SSL_dane_enable(ssl, base) <= 0)
            break;
        SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
        plan->no_usable_match = setup_dane_records(ssl, session, p) == 0;
        return 0;
    default:
        return 0;
    }
    ERR_clear_error();
    strbuf_set(why, "cannot enable certificate matching");
    return -1;
}

static void cache_key_for(const tls_client_params *p, const client_plan *plan, strbuf *key)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    strbuf_printf(key, "%s&", p->cache_key);
    if (!EVP_Digest(plan->digest_input->data, plan->digest_input->len, digest, &len,
                    EVP_sha256(), NULL))
        msg_fatal("cannot compute a SHA-256 digest");
    for (unsigned int i = 0; i < len; i++)
        strbuf_append_printf(key, "%02x", digest[i]);
}

static void offer_cached_session(SSL *ssl, tls_session *session)
{
    strbuf *der = strbuf_new(512);
    SSL_SESSION *cached;

    if (tls_scache_fetch(session->cache, session->cache_key, der) == 1) {
        if ((cached = tls_session_from_der(der->data, der->len)) == NULL) {
            (void) tls_scache_remove(session->cache, session->cache_key);
        } else {
            if (!SSL_set_session(ssl, cached))
                ERR_clear_error();
            SSL_SESSION_free(cached);
        }
    }
    OPENSSL_cleanse(der->data, der->len);
    strbuf_free(der);
}

static int configure_connection(SSL *ssl, tls_session *session, const tls_client_ctx *ctx,
                                const tls_client_params *p, client_plan *plan, strbuf *why)
{
    strbuf *key;

    if (tls_apply_protocols(NULL, ssl, plan->protocols, why) < 0
        || tls_apply_ciphers(NULL, ssl, plan->ciphers, plan->exclude->data, why) < 0
        || setup_check(ssl, session, ctx, p, plan, why) < 0)
        return -1;
    if (plan->servername && !SSL_set_tlsext_host_name(ssl, plan->servername)) {
        strbuf_printf(why, "invalid server name \"%s\"", plan->servername);
        return -1;
    }
    if (ctx->cache && p->cache_key && *p->cache_key) {
        key = strbuf_new(128);
        cache_key_for(p, plan, key);
        session->cache = ctx->cache;
        session->cache_key = strbuf_steal(key);
        offer_cached_session(ssl, session);
    }
    return 0;
}

/* After the handshake: did the level's check pass? */
static void evaluate_peer(tls_session *session, const tls_client_params *p,
                          const client_plan *plan, tls_session_info *out)
{
    int     must_match = tls_level_must_match(p->level) && !(p->level == TLS_LEV_DANE
                                                             && plan->no_usable_match);

    if (must_match)
        out->peer_matched = out->peer_cert && !plan->no_usable_match
            && SSL_get_verify_result(session->ssl) == X509_V_OK;
    if (out->peer_cert && !(out->peer_trusted || out->peer_matched)) {
        strbuf *text = strbuf_new(128);

        tls_verify_message(session, text);
        out->verify_error = strbuf_steal(text);
    }
    session->must_verify = must_match;
    session->cache_ok = !must_match || out->peer_matched;
}

static void log_client_session(const tls_session *session, const tls_session_info *info)
{
    strbuf *line = strbuf_new(256);

    if (info->verify_error && !info->peer_matched
        && (session->loglevel >= 2 || (session->loglevel >= 1 && session->must_verify)))
        msg_info("%s", info->verify_error);
    if (info->resumed && session->loglevel >= 2)
        msg_info("%s: Reusing old session", session->namaddr);
    if (session->loglevel >= 1) {
        tls_session_summary(info, 1, session->namaddr, line);
        msg_info("%s", line->data);
    }
    strbuf_free(line);
}

static tls_session *client_failure(tls_session *session, stream *s, tls_session_info *out,
                                   const char *reason, int graceful)
{
    free(out->failure_reason);
    out->failure_reason = xstrdup(reason);
    if (graceful)
        (void) SSL_shutdown(session->ssl);
    ERR_clear_error();
    tls_session_free(session);
    tls_detach_io(s);
    return NULL;
}

/*
 * Postfix's two reasons at verify and secure: a chain that did not verify
 * (the first problem found was not a name) is "not trusted"; otherwise,
 * and at the other levels, "not verified".
 */
static const char *check_failure(const tls_session *session, const tls_client_params *p,
                                 const tls_session_info *out)
{
    long    first = session->verify.error ? session->verify.error :
        SSL_get_verify_result(session->ssl);
    int     name_problem = first == X509_V_ERR_HOSTNAME_MISMATCH
        || first == X509_V_ERR_IP_ADDRESS_MISMATCH || first == X509_V_OK;

    if ((p->level == TLS_LEV_VERIFY || p->level == TLS_LEV_SECURE)
        && (!out->peer_cert || !name_problem))
        return "Server certificate not trusted";
    return "Server certificate not verified";
}

static tls_session *client_handshake(tls_client_ctx *ctx, stream *s, tls_session *session,
                                     const tls_client_params *p, client_plan *plan,
                                     tls_session_info *out)
{
    if (tls_handshake(session, p->timeout, "SSL_connect error to") < 0)
        return client_failure(session, s, out, "Cannot start TLS: handshake failure", 0);
    tls_session_info_fill(session, ctx->fingerprint_digest, out);
    evaluate_peer(session, p, plan, out);
    log_client_session(session, out);
    if (!session->cache_ok)
        return client_failure(session, s, out, check_failure(session, p, out), 1);
    if (session->pending_session) {
        store_session(session, session->pending_session);
        SSL_SESSION_free(session->pending_session);
        session->pending_session = NULL;
    }
    tls_install_io(s, session);
    return session;
}

tls_session *tls_client_start(tls_client_ctx *ctx, stream *s, const tls_client_params *params,
                              tls_session_info *out)
{
    tls_client_params p = *params;
    strbuf *why = strbuf_new(64);
    client_plan plan;
    tls_session *session;
    SSL    *ssl;

    memset(out, 0, sizeof(*out));
    p.level = tls_level_effective(params->level, params->tlsa_count > 0);
    if (p.level <= TLS_LEV_NONE || stream_flush(s) < 0) {
        strbuf_free(why);
        out->failure_reason = xstrdup(p.level <= TLS_LEV_NONE ? "TLS not enabled" :
                                      "lost connection before TLS");
        tls_detach_io(s);
        return NULL;
    }
    out->plaintext_dropped = tls_discard_plaintext(s);
    if ((ssl = SSL_new(ctx->ssl_ctx)) == NULL || !SSL_set_fd(ssl, s->fd))
        msg_fatal("cannot allocate an OpenSSL connection");
    SSL_set_connect_state(ssl);
    session = tls_session_new(ssl, s->fd, 1, p.namaddr, ctx->loglevel);
    plan_init(ctx, &p, &plan);
    if (configure_connection(ssl, session, ctx, &p, &plan, why) < 0) {
        msg_warn("%s: client TLS configuration problem: %s", session->namaddr, why->data);
        session = client_failure(session, s, out, "client TLS configuration problem", 0);
    } else {
        session = client_handshake(ctx, s, session, &p, &plan, out);
    }
    plan_free(&plan);
    strbuf_free(why);
    return session;
}

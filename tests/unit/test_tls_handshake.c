/*
 * Unit tests for the TLS server and client: real handshakes between
 * tls_server_start() and tls_client_start() over a socketpair, with a
 * throw-away PKI made by test_tls_certs.sh. Covered: STARTTLS and wrapper
 * mode, plaintext injection at the switch (both directions), protocol,
 * cipher and signature reporting, the log lines and Received: text, every
 * client security level's certificate check, client certificates, SNI,
 * handshake failures and configuration errors.
 */
#include "unit.h"

#include "argv.h"
#include "tls.h"
#include "tls_client.h"
#include "tls_policy.h"
#include "tls_scache.h"
#include "tls_server.h"

#include "test_tls_support.h"

#define SERVER_NAMADDR "client.example.com[192.0.2.7]"
#define CLIENT_NAMADDR "mx.example.com[192.0.2.1]:25"

typedef struct server_side {
    tls_server_ctx *ctx;
    int     starttls;                   /* plaintext STARTTLS exchange first */
    const char *after_220;              /* injected right after the 220 reply */
    int     timeout;
    tls_session_info info;
    int     started;
    time_t  handshake_time;             /* seconds tls_server_start() took */
    strbuf *first_line;                 /* the first line read over TLS */
} server_side;

typedef struct client_side {
    tls_client_ctx *ctx;
    tls_client_params params;
    tls_policy policy;
    int     starttls;
    const char *after_starttls;         /* pipelined after "STARTTLS\r\n" */
    const char *raw_hello;              /* sent instead of a TLS handshake */
    tls_session_info info;
    int     started;
    strbuf *first_line;                 /* the server's first line over TLS */
    strbuf *reply;                      /* its answer to NOOP */
} client_side;

static void server_run(stream *s, void *arg)
{
    server_side *sv = arg;
    strbuf *line = strbuf_new(128);
    tls_session *session;

    if (sv->starttls) {
        stream_get_line(s, line, 1000);
        stream_printf(s, "220 2.0.0 Ready to start TLS\r\n%s", sv->after_220 ? sv->after_220 : "");
        stream_flush(s);
    }
    sv->handshake_time = time(NULL);
    session = tls_server_start(sv->ctx, s, sv->timeout ? sv->timeout : TLS_TEST_TIMEOUT,
                               SERVER_NAMADDR, &sv->info);
    sv->handshake_time = time(NULL) - sv->handshake_time;
    if (session == NULL)
        shutdown(s->fd, SHUT_RDWR);             /* the client stops waiting */
    if (session != NULL) {
        sv->started = 1;
        stream_puts(s, "250 ready\r\n");
        stream_flush(s);
        stream_get_line(s, sv->first_line, 1000);
        stream_puts(s, "250 2.0.0 Ok\r\n");
        tls_session_stop(session, s, 1);
    }
    strbuf_free(line);
}

static void client_run(stream *s, void *arg)
{
    client_side *cl = arg;
    strbuf *line = strbuf_new(128);
    tls_session *session;

    if (cl->raw_hello) {
        stream_puts(s, cl->raw_hello);
        stream_flush(s);
        stream_get_line(s, line, 1000);
        strbuf_free(line);
        return;
    }
    if (cl->starttls) {
        stream_printf(s, "STARTTLS\r\n%s", cl->after_starttls ? cl->after_starttls : "");
        stream_flush(s);
        stream_get_line(s, line, 1000);
    }
    session = tls_client_start(cl->ctx, s, &cl->params, &cl->info);
    if (session == NULL)
        shutdown(s->fd, SHUT_RDWR);
    if (session != NULL) {
        cl->started = 1;
        stream_get_line(s, cl->first_line, 1000);
        stream_puts(s, "NOOP\r\n");
        stream_flush(s);
        stream_get_line(s, cl->reply, 1000);
        tls_session_stop(session, s, 1);
    }
    strbuf_free(line);
}

/* Contexts. */

static tls_server_ctx *server_ctx_with(const char *chain_files, void (*adjust)(tls_server_config *))
{
    tls_server_config cfg;
    strbuf *why = strbuf_new(64);
    tls_server_ctx *ctx;

    tls_server_config_init(&cfg, TLS_LEV_MAY);
    cfg.chain_files = chain_files;
    cfg.loglevel = 1;
    if (adjust)
        adjust(&cfg);
    ctx = tls_server_init(&cfg, why);
    if (ctx == NULL)
        fprintf(stderr, "tls_server_init: %s\n", why->data);
    strbuf_free(why);
    return ctx;
}

static tls_client_ctx *client_ctx_with(const char *chain_files)
{
    tls_client_config cfg;
    strbuf *why = strbuf_new(64);
    tls_client_ctx *ctx;

    tls_client_config_init(&cfg);
    cfg.CAfile = cert_path("ca.pem");
    cfg.chain_files = chain_files;
    cfg.loglevel = 1;
    ctx = tls_client_init(&cfg, why);
    if (ctx == NULL)
        fprintf(stderr, "tls_client_init: %s\n", why->data);
    strbuf_free(why);
    return ctx;
}

static void sides_init(server_side *sv, client_side *cl, const char *server_chain,
                       enum tls_level level)
{
    memset(sv, 0, sizeof(*sv));
    memset(cl, 0, sizeof(*cl));
    sv->ctx = server_ctx_with(cert_path(server_chain), NULL);
    sv->first_line = strbuf_new(64);
    sv->starttls = cl->starttls = 1;
    cl->ctx = client_ctx_with(NULL);
    cl->first_line = strbuf_new(64);
    cl->reply = strbuf_new(64);
    cl->params.level = level;
    cl->params.host = "mx.example.com";
    cl->params.nexthop = "example.com";
    cl->params.namaddr = CLIENT_NAMADDR;
    cl->params.timeout = TLS_TEST_TIMEOUT;
    assert_non_null(sv->ctx);
    assert_non_null(cl->ctx);
}

/* Parse a policy table value into the client's per-site policy. */
static void use_policy(client_side *cl, const char *value)
{
    strbuf *why = strbuf_new(64);

    assert_int_equal(tls_policy_parse(value, &cl->policy, why), 0);
    cl->params.policy = &cl->policy;
    cl->params.level = cl->policy.level;
    strbuf_free(why);
}

static void sides_free(server_side *sv, client_side *cl)
{
    tls_server_free(sv->ctx);
    tls_client_free(cl->ctx);
    tls_session_info_free(&sv->info);
    tls_session_info_free(&cl->info);
    tls_policy_free(&cl->policy);
    strbuf_free(sv->first_line);
    strbuf_free(cl->first_line);
    strbuf_free(cl->reply);
}

static void run_sides(server_side *sv, client_side *cl)
{
    log_begin();
    run_pair(server_run, sv, client_run, cl);
}

/* The common case, in detail. */

static void test_starttls_tls13_rsa(void **state)
{
    server_side sv;
    client_side cl;
    argv_t *lines = argv_new(4);

    sides_init(&sv, &cl, "rsa.pem", TLS_LEV_MAY);
    run_sides(&sv, &cl);
    assert_true(sv.started);
    assert_true(cl.started);
    assert_string_equal(sv.first_line->data, "NOOP\r\n");
    assert_string_equal(cl.first_line->data, "250 ready\r\n");
    assert_string_equal(cl.reply->data, "250 2.0.0 Ok\r\n");
    assert_string_equal(sv.info.protocol, "TLSv1.3");
    assert_string_equal(sv.info.cipher_name, "TLS_AES_256_GCM_SHA384");
    assert_int_equal(sv.info.cipher_usebits, 256);
    assert_int_equal(sv.info.cipher_algbits, 256);
    assert_false(sv.info.resumed);
    assert_false(sv.info.peer_cert);
    assert_true(cl.info.peer_cert);
    assert_true(cl.info.peer_trusted);          /* CAfile given; "may" checks no name */
    assert_false(cl.info.peer_matched);
    assert_string_equal(cl.info.peer_CN, "mx.example.com");
    assert_string_equal(cl.info.issuer_CN, "Postern Test CA");
    assert_true(log_contains("postfix/unittest[")
                && log_contains(": Anonymous TLS connection established from " SERVER_NAMADDR
                                ": TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) "
                                "key-exchange X25519 server-signature RSA-PSS (2048 bits) "
                                "server-digest SHA256\n"));
    assert_true(log_contains(": Trusted TLS connection established to " CLIENT_NAMADDR
                             ": TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) "
                             "key-exchange X25519 server-signature RSA-PSS (2048 bits) "
                             "server-digest SHA256\n"));
    tls_received_lines(&sv.info, lines);
    assert_int_equal(lines->count, 3);
    assert_string_equal(lines->items[0], "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384"
                        " (256/256 bits)");
    assert_string_equal(lines->items[1], "\t key-exchange X25519 server-signature RSA-PSS"
                        " (2048 bits) server-digest SHA256)");
    assert_string_equal(lines->items[2], "\t(No client certificate requested)");
    argv_free(lines);
    sides_free(&sv, &cl);
}

/* CVE-2011-0411: bytes after STARTTLS in the same write are not commands. */
static void test_starttls_injection_discarded_by_server(void **state)
{
    server_side sv;
    client_side cl;

    sides_init(&sv, &cl, "rsa.pem", TLS_LEV_MAY);
    cl.after_starttls = "RSET\r\n";
    run_sides(&sv, &cl);
    if (!sv.started)
        log_contains("(show the log)");
    assert_true(sv.started);
    assert_int_equal(sv.info.plaintext_dropped, 6);
    assert_string_equal(sv.first_line->data, "NOOP\r\n");
    sides_free(&sv, &cl);
}

/* The same from a hostile server: a reply queued after 220 is not believed. */
static void test_starttls_injection_discarded_by_client(void **state)
{
    server_side sv;
    client_side cl;

    sides_init(&sv, &cl, "rsa.pem", TLS_LEV_MAY);
    sv.after_220 = "250 injected\r\n";
    run_sides(&sv, &cl);
    assert_true(cl.started);
    assert_int_equal(cl.info.plaintext_dropped, 14);
    assert_string_equal(cl.first_line->data, "250 ready\r\n");
    sides_free(&sv, &cl);
}

static void test_wrapper_mode(void **state)
{
    server_side sv;
    client_side cl;

    sides_init(&sv, &cl, "rsa.pem", TLS_LEV_ENCRYPT);
    sv.starttls = cl.starttls = 0;
    run_sides(&sv, &cl);
    assert_true(sv.started);
    assert_true(cl.started);
    assert_int_equal(sv.info.plaintext_dropped, 0);
    assert_string_equal(sv.first_line->data, "NOOP\r\n");
    assert_string_equal(cl.reply->data, "250 2.0.0 Ok\r\n");
    sides_free(&sv, &cl);
}

static void test_tls12_ecdsa(void **state)
{
    server_side sv;
    client_side cl;
    argv_t *lines = argv_new(4);

    sides_init(&sv, &cl, "ec.pem", TLS_LEV_ENCRYPT);
    use_policy(&cl, "encrypt protocols=TLSv1.2");
    run_sides(&sv, &cl);
    assert_true(sv.started);
    assert_string_equal(sv.info.protocol, "TLSv1.2");
    assert_string_equal(sv.info.cipher_name, "ECDHE-ECDSA-AES256-GCM-SHA384");
    assert_null(sv.info.kex_name);              /* Postfix reports these for TLS 1.3 only */
    assert_null(sv.info.server_sig_name);
    assert_true(log_contains("Anonymous TLS connection established from " SERVER_NAMADDR
                             ": TLSv1.2 with cipher ECDHE-ECDSA-AES256-GCM-SHA384"
                             " (256/256 bits)\n"));
    tls_received_lines(&sv.info, lines);
    assert_int_equal(lines->count, 2);
    assert_string_equal(lines->items[0], "\t(using TLSv1.2 with cipher"
                        " ECDHE-ECDSA-AES256-GCM-SHA384 (256/256 bits))");
    argv_free(lines);
    sides_free(&sv, &cl);
}

/* RSA and ECDSA chains together: each is used when the client wants it. */
static void test_rsa_and_ecdsa_chains(void **state)
{
    server_side sv;
    client_side cl;
    strbuf *files = strbuf_new(128);

    sides_init(&sv, &cl, "rsa.pem", TLS_LEV_MAY);
    tls_server_free(sv.ctx);
    strbuf_printf(files, "%s, %s", cert_path("rsa.pem"), cert_path("ec.pem"));
    sv.ctx = server_ctx_with(files->data, NULL);
    run_sides(&sv, &cl);
    assert_string_equal(sv.info.server_sig_name, "ECDSA");
    assert_string_equal(sv.info.server_sig_curve, "prime256v1");
    assert_true(log_contains("server-signature ECDSA (prime256v1) server-digest SHA256\n"));
    tls_session_info_free(&sv.info);
    tls_session_info_free(&cl.info);

    use_policy(&cl, "encrypt protocols=TLSv1.2 exclude=aECDSA");
    run_sides(&sv, &cl);
    assert_true(cl.started);
    assert_string_equal(cl.info.cipher_name, "ECDHE-RSA-AES256-GCM-SHA384");
    strbuf_free(files);
    sides_free(&sv, &cl);
}

static void set_dh_file(tls_server_config *cfg)
{
    cfg->dh_param_file = cert_path("dh.pem");
}

static void test_dh_parameter_file(void **state)
{
    server_side sv;
    client_side cl;

    sides_init(&sv, &cl, "rsa.pem", TLS_LEV_ENCRYPT);
    tls_server_free(sv.ctx);
    sv.ctx = server_ctx_with(cert_path("rsa.pem"), set_dh_file);
    assert_non_null(sv.ctx);
    use_policy(&cl, "encrypt protocols=TLSv1.2 exclude=kECDHE");
    run_sides(&sv, &cl);
    assert_true(cl.started);
    assert_string_equal(cl.info.cipher_name, "DHE-RSA-AES256-GCM-SHA384");
    sides_free(&sv, &cl);
}

static void test_protocol_mismatch_fails_both(void **state)
{
    server_side sv;
    client_side cl;

    sides_init(&sv, &cl, "rsa.pem", TLS_LEV_ENCRYPT);
    use_policy(&cl, "encrypt protocols=<=TLSv1.2");
    tls_server_free(sv.ctx);
    sv.ctx = server_ctx_with(cert_path("rsa.pem"), NULL);
    run_sides(&sv, &cl);
    assert_true(sv.started);                    /* same defaults: works */
    sides_free(&sv, &cl);

    sides_init(&sv, &cl, "rsa.pem", TLS_LEV_ENCRYPT);
    use_policy(&cl, "encrypt protocols=<=TLSv1.2");
    tls_server_free(sv.ctx);
    sv.ctx = server_ctx_with(cert_path("rsa.pem"), NULL);
    tls_server_free(sv.ctx);
    {
        tls_server_config cfg;
        strbuf *why = strbuf_new(32);

        tls_server_config_init(&cfg, TLS_LEV_ENCRYPT);
        cfg.chain_files = cert_path("rsa.pem");
        cfg.protocols = ">=TLSv1.3";
        cfg.loglevel = 1;
        sv.ctx = tls_server_init(&cfg, why);
        strbuf_free(why);
    }
    run_sides(&sv, &cl);
    assert_false(sv.started);
    assert_false(cl.started);
    assert_string_equal(cl.info.failure_reason, "Cannot start TLS: handshake failure");
    assert_true(log_contains("warning: TLS library problem: error:"));
    sides_free(&sv, &cl);
}

/* Certificate checks per level. */

typedef struct level_case {
    const char *server_chain;
    const char *policy;
    const char *host;
    const char *nexthop;
    int     started;
    int     matched;
    const char *log;                    /* expected in the log, or NULL */
} level_case;

/* verify and secure tell a chain that does not verify from a name that does not match */
static const char *expected_failure(const level_case *c)
{
    int     chain_checked = strncmp(c->policy, "verify", 6) == 0
        || strncmp(c->policy, "secure", 6) == 0;
    int     bad_chain = strcmp(c->server_chain, "expired.pem") == 0
        || strcmp(c->server_chain, "untrusted.pem") == 0;

    return chain_checked && bad_chain ? "Server certificate not trusted"
        : "Server certificate not verified";
}

static void run_level_case(const level_case *c)
{
    server_side sv;
    client_side cl;

    sides_init(&sv, &cl, c->server_chain, TLS_LEV_MAY);
    use_policy(&cl, c->policy);
    if (c->host)
        cl.params.host = c->host;
    if (c->nexthop)
        cl.params.nexthop = c->nexthop;
    run_sides(&sv, &cl);
    if (cl.started != c->started || cl.info.peer_matched != c->matched)
        fprintf(stderr, "case \"%s\" with %s: started %d matched %d\n", c->policy,
                c->server_chain, cl.started, cl.info.peer_matched);
    assert_int_equal(cl.started, c->started);
    assert_int_equal(cl.info.peer_matched, c->matched);
    if (!c->started)
        assert_string_equal(cl.info.failure_reason, expected_failure(c));
    if (c->log)
        assert_true(log_contains(c->log));
    sides_free(&sv, &cl);
}

static void test_verify_and_secure_levels(void **state)
{
    static const level_case cases[] = {
        {"rsa.pem", "verify", NULL, NULL, 1, 1,
        "Verified TLS connection established to " CLIENT_NAMADDR ": TLSv1.3"},
        {"ec.pem", "verify match=hostname", NULL, NULL, 1, 1, NULL},
        {"wrong.pem", "verify", NULL, NULL, 0, 0,
            "server certificate verification failed for " CLIENT_NAMADDR
        ": num=62:hostname mismatch"},
        {"wrong.pem", "verify", NULL, NULL, 0, 0, "Untrusted TLS connection established to"},
        {"rsa.pem", "secure", NULL, "example.com", 1, 1, NULL},     /* dot-nexthop */
        {"rsa.pem", "secure", NULL, "mx.example.com", 1, 1, NULL},  /* nexthop */
        {"rsa.pem", "secure", NULL, "example.org", 0, 0, "num=62:hostname mismatch"},
        {"rsa.pem", "secure match=nexthop", NULL, "example.com", 0, 0, NULL},
        {"rsa.pem", "verify match=.example.com", "other.host", NULL, 1, 1, NULL},
        {"rsa.pem", "verify match=nexthop:hostname", "smtp.relay.example.com", "x.test", 1, 1, NULL},
        {"expired.pem", "verify", NULL, NULL, 0, 0,
            "server certificate verification failed for " CLIENT_NAMADDR
        ": certificate has expired"},
        {"expired.pem", "secure", NULL, NULL, 0, 0, NULL},
        {"wrong.pem", "secure", NULL, "example.com", 0, 0, NULL},
        {"untrusted.pem", "verify", NULL, NULL, 0, 0,
            "certificate verification failed for " CLIENT_NAMADDR
        ": untrusted issuer /O=Elsewhere/CN=Other CA"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_level_case(&cases[i]);
}

/* Opportunistic and mandatory-unauthenticated TLS accept what verify refuses. */
static void test_may_and_encrypt_accept_bad_certificates(void **state)
{
    static const level_case cases[] = {
        {"expired.pem", "may", NULL, NULL, 1, 0,
        "Untrusted TLS connection established to " CLIENT_NAMADDR},
        {"expired.pem", "encrypt", NULL, NULL, 1, 0, NULL},
        {"wrong.pem", "may", NULL, NULL, 1, 0,
        "Trusted TLS connection established to " CLIENT_NAMADDR},
        {"wrong.pem", "encrypt", NULL, NULL, 1, 0, NULL},
        {"untrusted.pem", "encrypt", NULL, NULL, 1, 0, "Untrusted TLS connection"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_level_case(&cases[i]);
}

static void test_wildcards(void **state)
{
    static const level_case cases[] = {
        {"rsa.pem", "verify", "smtp.relay.example.com", NULL, 1, 1, NULL},
        {"rsa.pem", "verify", "a.b.relay.example.com", NULL, 1, 1, NULL},
        {"rsa.pem", "verify", "relay.example.com", NULL, 0, 0, NULL},
        {"wild.pem", "verify", "mx.wild.example.com", NULL, 1, 1, NULL},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_level_case(&cases[i]);
}

static void test_wildcard_single_label(void **state)
{
    server_side sv;
    client_side cl;
    tls_client_config cfg;
    strbuf *why = strbuf_new(32);

    sides_init(&sv, &cl, "rsa.pem", TLS_LEV_VERIFY);
    tls_client_free(cl.ctx);
    tls_client_config_init(&cfg);
    cfg.CAfile = cert_path("ca.pem");
    cfg.wildcard_multiple_labels = 0;
    cl.ctx = tls_client_init(&cfg, why);
    cl.params.host = "a.b.relay.example.com";
    run_sides(&sv, &cl);
    assert_false(cl.started);
    strbuf_free(why);
    sides_free(&sv, &cl);
}

static void test_fingerprint_level(void **state)
{
    strbuf *cert_fpr = read_text(cert_path("rsa.fpr"));
    strbuf *key_fpr = read_text(cert_path("rsa.pkfpr"));
    strbuf *policy = strbuf_new(256);
    level_case c = {"rsa.pem", NULL, "not.the.name", NULL, 1, 1,
    "Verified TLS connection established to"};

    strbuf_printf(policy, "fingerprint match=%s", cert_fpr->data);
    c.policy = policy->data;
    run_level_case(&c);
    strbuf_printf(policy, "fingerprint match=AB:CD|%s", key_fpr->data);
    run_level_case(&c);
    strbuf_lowercase(key_fpr);                  /* case and colons do not matter */
    strbuf_printf(policy, "fingerprint match=");
    for (size_t i = 0; i < key_fpr->len; i++)
        if (key_fpr->data[i] != ':')
            strbuf_append_char(policy, key_fpr->data[i]);
    run_level_case(&c);

    c.server_chain = "ec.pem";                  /* another server's key */
    c.started = c.matched = 0;
    c.log = "server certificate verification failed for " CLIENT_NAMADDR
        ": num=65:no matching DANE TLSA records";
    run_level_case(&c);
    c.policy = "fingerprint match=AA:BB";       /* wrong length: unusable */
    c.log = "warning: " CLIENT_NAMADDR ": all fingerprints unusable";
    run_level_case(&c);
    strbuf_free(cert_fpr);
    strbuf_free(key_fpr);
    strbuf_free(policy);
}

static int hex_to_bytes(const char *text, unsigned char *out, size_t max)
{
    size_t  n = 0;

    for (; text[0] && text[1] && n < max; text += 2) {
        if (*text == ':')
            text--;
        else if (sscanf(text, "%2hhx", &out[n++]) != 1)
            return -1;
    }
    return (int) n;
}

static void run_dane_case(const char *chain, int usage, int selector, const char *digest_file,
                          const char *host, int expect_started)
{
    server_side sv;
    client_side cl;
    strbuf *digest = read_text(cert_path(digest_file));
    unsigned char bytes[64];
    tls_tlsa rr;

    rr.usage = (unsigned char) usage;
    rr.selector = (unsigned char) selector;
    rr.mtype = 1;
    rr.data = bytes;
    rr.len = (size_t) hex_to_bytes(digest->data, bytes, sizeof(bytes));
    sides_init(&sv, &cl, chain, TLS_LEV_DANE_ONLY);
    cl.params.tlsa = &rr;
    cl.params.tlsa_count = 1;
    cl.params.host = host;
    run_sides(&sv, &cl);
    assert_int_equal(cl.started, expect_started);
    assert_int_equal(cl.info.peer_matched, expect_started);
    strbuf_free(digest);
    sides_free(&sv, &cl);
}

static void test_dane(void **state)
{
    run_dane_case("rsa.pem", 3, 1, "rsa.pkfpr", "mx.example.com", 1);   /* DANE-EE SPKI */
    run_dane_case("rsa.pem", 3, 1, "rsa.pkfpr", "any.name", 1);         /* no name check */
    run_dane_case("ec.pem", 3, 1, "rsa.pkfpr", "mx.example.com", 0);
    run_dane_case("rsa.pem", 3, 0, "rsa.fpr", "mx.example.com", 1);     /* DANE-EE cert */
}

/* TLSA records that cannot be used: dane-only fails, dane is plain encrypt. */
static void test_dane_unusable_records(void **state)
{
    static const unsigned char short_digest[4] = {1, 2, 3, 4};
    tls_tlsa rr = {3, 1, 1, short_digest, sizeof(short_digest)};
    server_side sv;
    client_side cl;

    sides_init(&sv, &cl, "rsa.pem", TLS_LEV_DANE_ONLY);
    cl.params.tlsa = &rr;
    cl.params.tlsa_count = 1;
    run_sides(&sv, &cl);
    assert_false(cl.started);
    assert_true(log_contains("warning: " CLIENT_NAMADDR ": unusable TLSA RR: 3 1 1 01020304"));
    sides_free(&sv, &cl);

    sides_init(&sv, &cl, "untrusted.pem", TLS_LEV_DANE);
    cl.params.tlsa = &rr;
    cl.params.tlsa_count = 1;
    run_sides(&sv, &cl);
    assert_true(cl.started);
    assert_false(cl.info.peer_matched);
    sides_free(&sv, &cl);
}

static void test_dane_without_records(void **state)
{
    server_side sv;
    client_side cl;

    sides_init(&sv, &cl, "untrusted.pem", TLS_LEV_DANE);       /* no TLSA: may */
    run_sides(&sv, &cl);
    assert_true(cl.started);
    assert_false(cl.info.peer_matched);
    sides_free(&sv, &cl);
}

/* Client certificates. */

static void ask_ccert(tls_server_config *cfg)
{
    cfg->ask_ccert = 1;
    cfg->CAfile = cert_path("ca.pem");
}

static void req_ccert(tls_server_config *cfg)
{
    ask_ccert(cfg);
    cfg->req_ccert = 1;
}

static void run_ccert_case(void (*adjust)(tls_server_config *), const char *client_chain,
                           server_side *sv, client_side *cl)
{
    sides_init(sv, cl, "rsa.pem", TLS_LEV_MAY);
    tls_server_free(sv->ctx);
    sv->ctx = server_ctx_with(cert_path("rsa.pem"), adjust);
    tls_client_free(cl->ctx);
    cl->ctx = client_ctx_with(client_chain ? cert_path(client_chain) : NULL);
    run_sides(sv, cl);
}

static void test_client_certificate_trusted(void **state)
{
    server_side sv;
    client_side cl;
    strbuf *fpr = read_text(cert_path("client.fpr"));
    strbuf *pkfpr = read_text(cert_path("client.pkfpr"));
    argv_t *lines = argv_new(4);

    run_ccert_case(ask_ccert, "client.pem", &sv, &cl);
    assert_true(sv.started);
    assert_true(sv.info.peer_cert);
    assert_true(sv.info.peer_trusted);
    assert_string_equal(sv.info.peer_CN, "client.example.com");
    assert_string_equal(sv.info.issuer_CN, "Postern Test CA");
    assert_string_equal(sv.info.peer_cert_fprint, fpr->data);
    assert_string_equal(sv.info.peer_pkey_fprint, pkfpr->data);
    assert_string_equal(sv.info.client_sig_name, "ECDSA");
    assert_true(log_contains("Trusted TLS connection established from " SERVER_NAMADDR
                             ": TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"
                             " key-exchange X25519 server-signature RSA-PSS (2048 bits)"
                             " server-digest SHA256 client-signature ECDSA (prime256v1)"
                             " client-digest SHA256\n"));
    tls_received_lines(&sv.info, lines);
    assert_int_equal(lines->count, 4);
    assert_string_equal(lines->items[1], "\t key-exchange X25519 server-signature RSA-PSS"
                        " (2048 bits) server-digest SHA256");
    assert_string_equal(lines->items[2], "\t client-signature ECDSA (prime256v1)"
                        " client-digest SHA256)");
    assert_string_equal(lines->items[3], "\t(Client CN \"client.example.com\","
                        " Issuer \"Postern Test CA\" (verified OK))");
    argv_free(lines);
    strbuf_free(fpr);
    strbuf_free(pkfpr);
    sides_free(&sv, &cl);
}

static void test_client_certificate_absent_or_untrusted(void **state)
{
    server_side sv;
    client_side cl;
    argv_t *lines = argv_new(4);

    run_ccert_case(ask_ccert, NULL, &sv, &cl);
    assert_true(sv.started);
    assert_false(sv.info.peer_cert);
    tls_received_lines(&sv.info, lines);
    assert_string_equal(lines->items[lines->count - 1], "\t(Client did not present a certificate)");
    sides_free(&sv, &cl);

    run_ccert_case(ask_ccert, "untrusted.pem", &sv, &cl);
    assert_true(sv.started);
    assert_true(sv.info.peer_cert);
    assert_false(sv.info.peer_trusted);
    assert_true(log_contains("Untrusted TLS connection established from " SERVER_NAMADDR));
    argv_truncate(lines, 0);
    tls_received_lines(&sv.info, lines);
    assert_string_equal(lines->items[lines->count - 1], "\t(Client CN \"mx.example.com\","
                        " Issuer \"Other CA\" (not verified))");
    argv_free(lines);
    sides_free(&sv, &cl);
}

static void test_client_certificate_required(void **state)
{
    server_side sv;
    client_side cl;

    run_ccert_case(req_ccert, NULL, &sv, &cl);
    assert_false(sv.started);
    sides_free(&sv, &cl);
    run_ccert_case(req_ccert, "untrusted.pem", &sv, &cl);
    assert_false(sv.started);
    sides_free(&sv, &cl);
    run_ccert_case(req_ccert, "client.pem", &sv, &cl);
    assert_true(sv.started);
    assert_true(sv.info.peer_trusted);
    sides_free(&sv, &cl);
}

/* SNI: the server picks a chain by the name the client asks for. */

static int sni_lookup(const char *servername, strbuf *pem, void *context)
{
    strbuf *text;

    (void) context;
    if (strcmp(servername, "alt.example.net") == 0) {
        text = read_text(cert_path("sni.pem"));
        strbuf_set_mem(pem, text->data, text->len);
        strbuf_free(text);
        return 1;
    }
    return strcmp(servername, "broken.example.net") == 0 ? -1 : 0;
}

static void run_sni_case(const char *policy, int started, const char *peer_cn)
{
    server_side sv;
    client_side cl;

    sides_init(&sv, &cl, "rsa.pem", TLS_LEV_MAY);
    tls_server_set_sni(sv.ctx, sni_lookup, NULL);
    use_policy(&cl, policy);
    run_sides(&sv, &cl);
    assert_int_equal(cl.started, started);
    if (peer_cn)
        assert_string_equal(cl.info.peer_CN, peer_cn);
    sides_free(&sv, &cl);
}

static void test_sni(void **state)
{
    run_sni_case("verify servername=alt.example.net match=alt.example.net", 1, "alt.example.net");
    run_sni_case("verify servername=ALT.example.NET match=alt.example.net", 1, "alt.example.net");
    run_sni_case("may servername=other.example.net", 1, "mx.example.com");
    run_sni_case("may", 1, "mx.example.com");
    run_sni_case("may servername=broken.example.net", 0, NULL);
}

/* Failures. */

static void test_handshake_timeout(void **state)
{
    server_side sv;
    client_side cl;

    sides_init(&sv, &cl, "rsa.pem", TLS_LEV_MAY);
    sv.starttls = 0;
    sv.timeout = 1;
    cl.raw_hello = "";                          /* says nothing, waits for a line */
    run_sides(&sv, &cl);
    assert_false(sv.started);
    assert_true(sv.handshake_time <= 4);        /* not the 10 s stream timeout */
    assert_true(log_contains("SSL_accept error from " SERVER_NAMADDR ": Connection timed out"));
    sides_free(&sv, &cl);
}

static void test_garbage_instead_of_hello(void **state)
{
    server_side sv;
    client_side cl;

    sides_init(&sv, &cl, "rsa.pem", TLS_LEV_MAY);
    sv.starttls = 0;
    cl.raw_hello = "EHLO this is not TLS\r\n";
    run_sides(&sv, &cl);
    assert_false(sv.started);
    assert_true(log_contains("warning: TLS library problem: error:"));
    sides_free(&sv, &cl);
}

static void test_server_configuration_errors(void **state)
{
    const char *chains[][2] = {
        {"", "no server certificate and key configured"},
        {"/nonexistent/chain.pem", "cannot open /nonexistent/chain.pem"},
        {"rsa.crt", "certificate not preceded by its private key"},
        {"rsa.key", "private key not followed by a certificate"},
        {"ec.key rsa.crt", "private key does not match its certificate"},
    };
    tls_server_config cfg;
    strbuf *why = strbuf_new(64);
    strbuf *files = strbuf_new(64);

    for (size_t i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
        argv_t *names = argv_split(chains[i][0], " ");

        strbuf_reset(files);
        for (size_t j = 0; j < names->count; j++)
            strbuf_append_printf(files, "%s%s", j ? ", " : "", names->items[j][0] == '/' ?
                                 names->items[j] : cert_path(names->items[j]));
        argv_free(names);
        tls_server_config_init(&cfg, TLS_LEV_MAY);
        cfg.chain_files = files->data;
        strbuf_reset(why);
        assert_null(tls_server_init(&cfg, why));
        if (strstr(why->data, chains[i][1]) == NULL)
            fprintf(stderr, "expected \"%s\", got \"%s\"\n", chains[i][1], why->data);
        assert_non_null(strstr(why->data, chains[i][1]));
    }
    tls_server_config_init(&cfg, TLS_LEV_MAY);
    cfg.chain_files = cert_path("rsa.pem");
    cfg.protocols = "TLSv9";
    assert_null(tls_server_init(&cfg, why));
    assert_non_null(strstr(why->data, "invalid TLS protocol name \"TLSv9\""));
    cfg.protocols = ">=TLSv1";
    cfg.dh_param_file = cert_path("rsa.crt");
    assert_null(tls_server_init(&cfg, why));
    assert_non_null(strstr(why->data, "cannot load DH parameters"));
    cfg.dh_param_file = "";
    cfg.cipher_grade = "strongest";
    assert_null(tls_server_init(&cfg, why));
    assert_non_null(strstr(why->data, "invalid TLS cipher grade"));
    strbuf_free(why);
    strbuf_free(files);
}

static void legacy_pair(tls_server_config *cfg)
{
    cfg->chain_files = "";
    cfg->cert_file = cert_path("rsa.crt");
    cfg->key_file = cert_path("rsa.key");
    cfg->eccert_file = cert_path("ec.pem");
    cfg->eckey_file = cert_path("ec.pem");
}

static void test_legacy_cert_and_key_files(void **state)
{
    server_side sv;
    client_side cl;

    sides_init(&sv, &cl, "rsa.pem", TLS_LEV_MAY);
    tls_server_free(sv.ctx);
    sv.ctx = server_ctx_with("", legacy_pair);
    use_policy(&cl, "may protocols=TLSv1.2 exclude=aECDSA");
    run_sides(&sv, &cl);
    assert_true(cl.started);
    assert_string_equal(cl.info.cipher_name, "ECDHE-RSA-AES256-GCM-SHA384");
    sides_free(&sv, &cl);
}

/* Resumption: tickets, the server-side cache, the client's cache. */

static tls_scache *server_cache;
static time_t fake_now;

static time_t fake_clock(void)
{
    return fake_now;
}

static tls_scache *open_cache(const char *name)
{
    strbuf *spec = strbuf_new(128);
    strbuf *why = strbuf_new(64);
    tls_scache *cache;

    strbuf_printf(spec, "btree:%s/%s", unit_temp_dir(), name);
    cache = tls_scache_open(spec->data, 3600, TLS_SCACHE_CLEAR, why);
    if (cache == NULL)
        fprintf(stderr, "%s\n", why->data);
    strbuf_free(spec);
    strbuf_free(why);
    return cache;
}

/* How many entries a cache holds (expiring them all with the clock far ahead). */
static int cache_entries(tls_scache *cache)
{
    time_t  (*saved)(void) = NULL;
    int     count;

    fake_now = time(NULL) + 10 * 86400;
    tls_set_clock(fake_clock);
    count = tls_scache_expire(cache);
    tls_set_clock(saved);
    return count;
}

static void no_tickets_with_cache(tls_server_config *cfg)
{
    cfg->ssl_options = "NO_TICKET";
    cfg->cache = server_cache;
}

static void short_sessions(tls_server_config *cfg)
{
    cfg->session_timeout = 100;
}

static void no_resumption(tls_server_config *cfg)
{
    cfg->session_timeout = 0;
}

typedef struct resumption_case {
    void    (*adjust)(tls_server_config *);
    const char *policy;
} resumption_case;

/* Two connections through the same contexts; returns what the second saw. */
static void connect_twice(const resumption_case *c, tls_scache *client_cache, int *first,
                          int *second)
{
    server_side sv;
    client_side cl;
    tls_client_config cfg;
    strbuf *why = strbuf_new(32);

    sides_init(&sv, &cl, "rsa.pem", TLS_LEV_MAY);
    tls_server_free(sv.ctx);
    sv.ctx = server_ctx_with(cert_path("rsa.pem"), c->adjust);
    tls_client_free(cl.ctx);
    tls_client_config_init(&cfg);
    cfg.CAfile = cert_path("ca.pem");
    cfg.cache = client_cache;
    cl.ctx = tls_client_init(&cfg, why);
    use_policy(&cl, c->policy);
    cl.params.cache_key = "example.com";
    run_sides(&sv, &cl);
    assert_true(cl.started);
    *first = cl.info.resumed;
    assert_int_equal(sv.info.resumed, cl.info.resumed);
    tls_session_info_free(&sv.info);
    tls_session_info_free(&cl.info);
    run_sides(&sv, &cl);
    assert_true(cl.started);
    *second = cl.info.resumed;
    assert_int_equal(sv.info.resumed, cl.info.resumed);
    strbuf_free(why);
    sides_free(&sv, &cl);
}

static void test_resumption(void **state)
{
    static const resumption_case cases[] = {
        {NULL, "may"},                          /* TLS 1.3 tickets */
        {NULL, "may protocols=TLSv1.2"},        /* RFC 5077 tickets */
        {no_tickets_with_cache, "may"},         /* TLS 1.3 stateful tickets */
        {no_tickets_with_cache, "may protocols=TLSv1.2"},   /* session IDs */
    };
    int     first;
    int     second;

    server_cache = open_cache("server-scache");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tls_scache *client_cache = open_cache("client-scache");

        connect_twice(&cases[i], client_cache, &first, &second);
        if (first || !second)
            fprintf(stderr, "case %zu: first %d second %d\n", i, first, second);
        assert_false(first);
        assert_true(second);
        tls_scache_close(client_cache);
    }
    assert_true(cache_entries(server_cache) >= 1);
    tls_scache_close(server_cache);
    server_cache = NULL;
}

static void test_no_resumption_when_disabled(void **state)
{
    static const resumption_case off = {no_resumption, "may"};
    tls_scache *client_cache = open_cache("client-off");
    int     first;
    int     second;

    connect_twice(&off, client_cache, &first, &second);
    assert_false(first);
    assert_false(second);
    tls_scache_close(client_cache);
}

/* A session made under one policy is not offered under another. */
static void test_client_cache_key_covers_policy(void **state)
{
    server_side sv;
    client_side cl;
    tls_client_config cfg;
    strbuf *why = strbuf_new(32);
    tls_scache *client_cache = open_cache("client-policy");
    static const char *const policies[] = {"may", "encrypt", "may", "verify", "verify"};
    static const int resumed[] = {0, 0, 1, 0, 1};

    sides_init(&sv, &cl, "rsa.pem", TLS_LEV_MAY);
    tls_client_free(cl.ctx);
    tls_client_config_init(&cfg);
    cfg.CAfile = cert_path("ca.pem");
    cfg.cache = client_cache;
    cl.ctx = tls_client_init(&cfg, why);
    cl.params.cache_key = "example.com";
    for (size_t i = 0; i < 5; i++) {
        tls_policy_free(&cl.policy);
        use_policy(&cl, policies[i]);
        run_sides(&sv, &cl);
        assert_true(cl.started);
        assert_int_equal(cl.info.resumed, resumed[i]);
        tls_session_info_free(&sv.info);
        tls_session_info_free(&cl.info);
    }
    strbuf_free(why);
    sides_free(&sv, &cl);
    tls_scache_close(client_cache);
}

/* Sessions from connections that failed the level's check are not kept. */
static void test_failed_check_not_cached(void **state)
{
    server_side sv;
    client_side cl;
    tls_client_config cfg;
    strbuf *why = strbuf_new(32);
    tls_scache *client_cache = open_cache("client-failed");
    const char *chains[] = {"wrong.pem", "rsa.pem"};
    const int entries[] = {0, 1};

    for (size_t i = 0; i < 2; i++) {
        sides_init(&sv, &cl, chains[i], TLS_LEV_MAY);
        tls_client_free(cl.ctx);
        tls_client_config_init(&cfg);
        cfg.CAfile = cert_path("ca.pem");
        cfg.cache = client_cache;
        cl.ctx = tls_client_init(&cfg, why);
        cl.params.cache_key = "example.com";
        use_policy(&cl, "verify protocols=TLSv1.2");    /* the session comes in the handshake */
        run_sides(&sv, &cl);
        assert_int_equal(cl.started, entries[i]);
        assert_int_equal(cache_entries(client_cache), entries[i]);
        sides_free(&sv, &cl);
    }
    strbuf_free(why);
    tls_scache_close(client_cache);
}

/* Ticket keys rotate after the session timeout and are honoured for as long again. */
static void test_ticket_key_rotation(void **state)
{
    server_side sv;
    client_side cl;
    tls_client_config cfg;
    strbuf *why = strbuf_new(32);
    tls_scache *client_cache = open_cache("client-rotation");
    static const time_t when[] = {0, 150, 250, 1000};
    static const int resumed[] = {0, 1, 1, 0};

    fake_now = 1700000000;
    tls_set_clock(fake_clock);
    sides_init(&sv, &cl, "rsa.pem", TLS_LEV_MAY);
    tls_server_free(sv.ctx);
    sv.ctx = server_ctx_with(cert_path("rsa.pem"), short_sessions);
    tls_client_free(cl.ctx);
    tls_client_config_init(&cfg);
    cfg.CAfile = cert_path("ca.pem");
    cfg.cache = client_cache;
    cl.ctx = tls_client_init(&cfg, why);
    cl.params.cache_key = "example.com";
    for (size_t i = 0; i < 4; i++) {
        fake_now = 1700000000 + when[i];
        run_sides(&sv, &cl);
        assert_true(cl.started);
        assert_int_equal(cl.info.resumed, resumed[i]);
        tls_session_info_free(&sv.info);
        tls_session_info_free(&cl.info);
    }
    tls_set_clock(NULL);
    strbuf_free(why);
    sides_free(&sv, &cl);
    tls_scache_close(client_cache);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_starttls_tls13_rsa),
        cmocka_unit_test(test_starttls_injection_discarded_by_server),
        cmocka_unit_test(test_starttls_injection_discarded_by_client),
        cmocka_unit_test(test_wrapper_mode),
        cmocka_unit_test(test_tls12_ecdsa),
        cmocka_unit_test(test_rsa_and_ecdsa_chains),
        cmocka_unit_test(test_dh_parameter_file),
        cmocka_unit_test(test_protocol_mismatch_fails_both),
        cmocka_unit_test(test_verify_and_secure_levels),
        cmocka_unit_test(test_may_and_encrypt_accept_bad_certificates),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_wildcard_single_label),
        cmocka_unit_test(test_fingerprint_level),
        cmocka_unit_test(test_dane),
        cmocka_unit_test(test_dane_unusable_records),
        cmocka_unit_test(test_dane_without_records),
        cmocka_unit_test(test_client_certificate_trusted),
        cmocka_unit_test(test_client_certificate_absent_or_untrusted),
        cmocka_unit_test(test_client_certificate_required),
        cmocka_unit_test(test_sni),
        cmocka_unit_test(test_handshake_timeout),
        cmocka_unit_test(test_garbage_instead_of_hello),
        cmocka_unit_test(test_server_configuration_errors),
        cmocka_unit_test(test_legacy_cert_and_key_files),
        cmocka_unit_test(test_resumption),
        cmocka_unit_test(test_no_resumption_when_disabled),
        cmocka_unit_test(test_client_cache_key_covers_policy),
        cmocka_unit_test(test_failed_check_not_cached),
        cmocka_unit_test(test_ticket_key_rotation),
    };

    return cmocka_run_group_tests(tests, tls_test_setup, NULL);
}

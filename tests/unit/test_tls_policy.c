/*
 * Unit tests for the TLS configuration helpers: security levels (and the
 * legacy use/enforce parameters), the client's STARTTLS decision matrix,
 * smtp_tls_policy_maps values, protocol lists, cipher grades, OpenSSL
 * options, the summary log line and Received: text for hand-made sessions,
 * and the sanitizing of certificate names.
 */
#include "unit.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "argv.h"
#include "config.h"
#include "mail_params.h"
#include "msg.h"
#include "tls.h"
#include "tls_policy.h"
#include "tls_private.h"

static int setup(void **state)
{
    msg_open("postfix/unittest", 0);
    unit_temp_file("main.cf", "");
    config_init(unit_temp_dir());
    params_load();
    return 0;
}

static void test_level_names(void **state)
{
    static const char *const names[] = {"none", "may", "encrypt", "dane", "dane-only",
        "fingerprint", "verify", "secure"};

    for (int i = 0; i < 8; i++) {
        assert_int_equal(tls_level_lookup(names[i]), (enum tls_level) i);
        assert_string_equal(tls_level_name((enum tls_level) i), names[i]);
    }
    assert_int_equal(tls_level_lookup("VERIFY"), TLS_LEV_VERIFY);
    assert_int_equal(tls_level_lookup("must"), TLS_LEV_INVALID);
    assert_int_equal(tls_level_lookup(""), TLS_LEV_INVALID);
    assert_int_equal(tls_level_lookup(NULL), TLS_LEV_INVALID);
}

static void test_server_level_and_legacy_parameters(void **state)
{
    char   *saved_level = var_smtpd_tls_security_level;

    var_smtpd_tls_security_level = "";
    assert_int_equal(tls_server_level(), TLS_LEV_NONE);
    var_smtpd_use_tls = 1;
    assert_int_equal(tls_server_level(), TLS_LEV_MAY);
    var_smtpd_enforce_tls = 1;
    assert_int_equal(tls_server_level(), TLS_LEV_ENCRYPT);
    var_smtpd_tls_security_level = "may";       /* the level wins over legacy */
    assert_int_equal(tls_server_level(), TLS_LEV_MAY);
    var_smtpd_tls_security_level = "none";
    assert_int_equal(tls_server_level(), TLS_LEV_NONE);
    var_smtpd_tls_security_level = "verify";    /* not a server level */
    assert_int_equal(tls_server_level(), TLS_LEV_INVALID);
    var_smtpd_use_tls = var_smtpd_enforce_tls = 0;
    var_smtpd_tls_security_level = saved_level;
}

static void test_client_level_and_legacy_parameters(void **state)
{
    char   *saved_level = var_smtp_tls_security_level;

    var_smtp_tls_security_level = "";
    assert_int_equal(tls_client_level(), TLS_LEV_NONE);
    var_smtp_use_tls = 1;
    assert_int_equal(tls_client_level(), TLS_LEV_MAY);
    var_smtp_enforce_tls = 1;                   /* enforce_peername defaults to yes */
    assert_int_equal(tls_client_level(), TLS_LEV_VERIFY);
    var_smtp_tls_enforce_peername = 0;
    assert_int_equal(tls_client_level(), TLS_LEV_ENCRYPT);
    var_smtp_tls_security_level = "dane";
    assert_int_equal(tls_client_level(), TLS_LEV_DANE);
    var_smtp_use_tls = var_smtp_enforce_tls = 0;
    var_smtp_tls_enforce_peername = 1;
    var_smtp_tls_security_level = saved_level;
}

static void test_effective_level(void **state)
{
    assert_int_equal(tls_level_effective(TLS_LEV_DANE, 0), TLS_LEV_MAY);
    assert_int_equal(tls_level_effective(TLS_LEV_DANE, 1), TLS_LEV_DANE);
    assert_int_equal(tls_level_effective(TLS_LEV_DANE_ONLY, 0), TLS_LEV_DANE_ONLY);
    assert_int_equal(tls_level_effective(TLS_LEV_VERIFY, 0), TLS_LEV_VERIFY);
    assert_false(tls_level_must_match(TLS_LEV_ENCRYPT));
    assert_true(tls_level_must_match(TLS_LEV_FPRINT));
    assert_true(tls_level_mandatory(TLS_LEV_ENCRYPT));
    assert_false(tls_level_mandatory(TLS_LEV_MAY));
}

/* The downgrade matrix: what the client does after EHLO. */
static void test_starttls_decision_matrix(void **state)
{
    static const struct {
        enum tls_level level;
        enum tls_action offered;
        enum tls_action not_offered;
    } matrix[] = {
        {TLS_LEV_NONE, TLS_ACTION_PLAINTEXT, TLS_ACTION_PLAINTEXT},
        {TLS_LEV_MAY, TLS_ACTION_STARTTLS, TLS_ACTION_PLAINTEXT},
        {TLS_LEV_ENCRYPT, TLS_ACTION_STARTTLS, TLS_ACTION_REFUSE},
        {TLS_LEV_DANE, TLS_ACTION_STARTTLS, TLS_ACTION_REFUSE},
        {TLS_LEV_DANE_ONLY, TLS_ACTION_STARTTLS, TLS_ACTION_REFUSE},
        {TLS_LEV_FPRINT, TLS_ACTION_STARTTLS, TLS_ACTION_REFUSE},
        {TLS_LEV_VERIFY, TLS_ACTION_STARTTLS, TLS_ACTION_REFUSE},
        {TLS_LEV_SECURE, TLS_ACTION_STARTTLS, TLS_ACTION_REFUSE},
    };
    strbuf *reason = strbuf_new(64);

    for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++) {
        strbuf_reset(reason);
        assert_int_equal(tls_starttls_decision(matrix[i].level, 1, "mx[192.0.2.1]", reason),
                         matrix[i].offered);
        assert_int_equal(tls_starttls_decision(matrix[i].level, 0, "mx[192.0.2.1]", reason),
                         matrix[i].not_offered);
        if (matrix[i].not_offered == TLS_ACTION_REFUSE)
            assert_string_equal(reason->data,
                                "TLS is required, but was not offered by host mx[192.0.2.1]");
        else
            assert_int_equal(reason->len, 0);
    }
    /* dane without TLSA records is opportunistic, so plaintext is allowed */
    assert_int_equal(tls_starttls_decision(tls_level_effective(TLS_LEV_DANE, 0), 0, "x",
                                           reason), TLS_ACTION_PLAINTEXT);
    strbuf_free(reason);
}

static void test_policy_values(void **state)
{
    tls_policy policy;
    strbuf *why = strbuf_new(64);

    assert_int_equal(tls_policy_parse("may", &policy, why), 0);
    assert_int_equal(policy.level, TLS_LEV_MAY);
    assert_null(policy.ciphers);
    tls_policy_free(&policy);

    assert_int_equal(tls_policy_parse("encrypt protocols=!SSLv2:!SSLv3:!TLSv1 ciphers=high "
                                      "exclude=3DES:aNULL", &policy, why), 0);
    assert_int_equal(policy.level, TLS_LEV_ENCRYPT);
    assert_string_equal(policy.protocols, "!SSLv2:!SSLv3:!TLSv1");
    assert_string_equal(policy.ciphers, "high");
    assert_string_equal(policy.exclude, "3DES, aNULL");
    tls_policy_free(&policy);

    assert_int_equal(tls_policy_parse("verify match=hostname:nexthop:.example.com", &policy,
                                      why), 0);
    assert_int_equal(policy.match->count, 3);
    assert_string_equal(policy.match->items[2], ".example.com");
    tls_policy_free(&policy);

    assert_int_equal(tls_policy_parse("secure match=nexthop servername=hostname "
                                      "tafile=/etc/ta.pem connection_reuse=yes", &policy,
                                      why), 0);
    assert_string_equal(policy.servername, "hostname");
    assert_string_equal(policy.tafile, "/etc/ta.pem");
    assert_true(policy.connection_reuse);
    tls_policy_free(&policy);

    assert_int_equal(tls_policy_parse("fingerprint match=AB:CD:EF|01:23:45", &policy, why), 0);
    assert_int_equal(policy.match->count, 2);
    assert_string_equal(policy.match->items[0], "AB:CD:EF");
    tls_policy_free(&policy);

    assert_int_equal(tls_policy_parse("  dane-only  ", &policy, why), 0);
    assert_int_equal(policy.level, TLS_LEV_DANE_ONLY);
    tls_policy_free(&policy);
    strbuf_free(why);
}

static void test_policy_errors(void **state)
{
    static const struct {
        const char *value;
        const char *why;
    } bad[] = {
        {"", "invalid TLS security level \"\""},
        {"must", "invalid TLS security level \"must\""},
        {"may match=hostname", "attribute \"match\" is not valid at level \"may\""},
        {"encrypt tafile=/x", "attribute \"tafile\" is not valid at level \"encrypt\""},
        {"none ciphers=high", "attribute \"ciphers\" is not valid at level \"none\""},
        {"encrypt ciphers=strong", "invalid cipher grade \"strong\""},
        {"encrypt protocols=TLSv9", "invalid TLS protocol name \"TLSv9\""},
        {"encrypt protocols=>=TLSv1.3:!TLSv1.3", "excludes every protocol"},
        {"encrypt ciphers=high ciphers=low", "duplicate attribute \"ciphers\""},
        {"verify match=hostname match=nexthop", "duplicate attribute \"match\""},
        {"encrypt ciphers=", "invalid cipher grade \"\""},
        {"verify match=", "empty value for attribute \"match\""},
        {"encrypt high", "malformed attribute \"high\""},
        {"encrypt =x", "malformed attribute \"=x\""},
        {"encrypt color=blue", "unknown attribute \"color\""},
        {"encrypt connection_reuse=maybe", "invalid boolean \"maybe\""},
    };
    tls_policy policy;
    strbuf *why = strbuf_new(64);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        strbuf_reset(why);
        assert_int_equal(tls_policy_parse(bad[i].value, &policy, why), -1);
        if (strstr(why->data, bad[i].why) == NULL)
            fprintf(stderr, "\"%s\": got \"%s\"\n", bad[i].value, why->data);
        assert_non_null(strstr(why->data, bad[i].why));
        assert_null(policy.match);              /* nothing left allocated */
        assert_null(policy.ciphers);
    }
    strbuf_free(why);
}

static void test_protocol_lists(void **state)
{
    static const struct {
        const char *text;
        int     mask;
    } good[] = {
        {"", TLS_PROTOCOL_ALL},
        {">=TLSv1.2", TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3},
        {"<=TLSv1.1", TLS_PROTOCOL_SSLv2 | TLS_PROTOCOL_SSLv3 | TLS_PROTOCOL_TLSv1
        | TLS_PROTOCOL_TLSv1_1},
        {"!SSLv2, !SSLv3, !TLSv1", TLS_PROTOCOL_TLSv1_1 | TLS_PROTOCOL_TLSv1_2
        | TLS_PROTOCOL_TLSv1_3},
        {"!SSLv2:!SSLv3", TLS_PROTOCOL_ALL & ~(TLS_PROTOCOL_SSLv2 | TLS_PROTOCOL_SSLv3)},
        {"TLSv1.2 TLSv1.3", TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3},
        {"tlsv1.2", TLS_PROTOCOL_TLSv1_2},
        {">=TLSv1 <=TLSv1.2 !TLSv1.1", TLS_PROTOCOL_TLSv1 | TLS_PROTOCOL_TLSv1_2},
        {">=TLSv1.2, !TLSv1.4", TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3},
    };
    static const char *const bad[] = {"TLSv9", ">=TLSv2", "<=", ">=TLSv1.3 <=TLSv1.2",
    "SSLv3 !SSLv3"};
    strbuf *why = strbuf_new(64);
    int     mask;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(tls_protocols_parse(good[i].text, &mask, why), 0);
        assert_int_equal(mask, good[i].mask);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(tls_protocols_parse(bad[i], &mask, why), -1);
    strbuf_free(why);
}

static void test_protocol_ranges(void **state)
{
    strbuf *why = strbuf_new(64);
    int     min_version;
    int     max_version;
    unsigned long holes;

    assert_int_equal(tls_protocol_range(TLS_PROTOCOL_TLSv1 | TLS_PROTOCOL_TLSv1_2
                                        | TLS_PROTOCOL_TLSv1_3, &min_version, &max_version,
                                        &holes, why), 0);
    assert_int_equal(min_version, TLS1_VERSION);
    assert_int_equal(max_version, TLS1_3_VERSION);
    assert_int_equal(holes, SSL_OP_NO_TLSv1_1);
    assert_int_equal(tls_protocol_range(TLS_PROTOCOL_SSLv3 | TLS_PROTOCOL_TLSv1_2, &min_version,
                                        &max_version, &holes, why), 0);
    assert_int_equal(min_version, TLS1_2_VERSION);      /* SSLv3 is gone from OpenSSL */
    assert_int_equal(max_version, TLS1_2_VERSION);
    assert_int_equal(holes, 0);
    assert_int_equal(tls_protocol_range(TLS_PROTOCOL_SSLv2 | TLS_PROTOCOL_SSLv3, &min_version,
                                        &max_version, &holes, why), -1);
    strbuf_free(why);
}

static void test_cipherlists(void **state)
{
    strbuf *why = strbuf_new(64);
    strbuf *list = strbuf_new(64);

    assert_int_equal(tls_cipherlist("medium", "", list, why), 0);
    assert_string_equal(list->data, "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH");
    assert_int_equal(tls_cipherlist("HIGH", "aNULL, 3DES", list, why), 0);
    assert_string_equal(list->data, "aNULL:-aNULL:HIGH:@STRENGTH:!aNULL:!3DES");
    assert_int_equal(tls_cipherlist("null", NULL, list, why), 0);
    assert_string_equal(list->data, "eNULL:!aNULL");
    assert_int_equal(tls_cipherlist("strong", NULL, list, why), -1);
    assert_non_null(strstr(why->data, "invalid TLS cipher grade \"strong\""));
    assert_int_equal(tls_cipherlist(NULL, NULL, list, why), -1);
    strbuf_free(why);
    strbuf_free(list);
}

static void test_ssl_options(void **state)
{
    strbuf *why = strbuf_new(64);
    unsigned long options;

    assert_int_equal(tls_ssl_options_parse("", &options, why), 0);
    assert_int_equal(options, 0);
    assert_int_equal(tls_ssl_options_parse("NO_TICKET, no_compression", &options, why), 0);
    assert_int_equal(options, SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION);
    assert_int_equal(tls_ssl_options_parse("ENABLE_MIDDLEBOX_COMPAT PRIORITIZE_CHACHA", &options,
                                           why), 0);
    assert_int_equal(options, SSL_OP_ENABLE_MIDDLEBOX_COMPAT | SSL_OP_PRIORITIZE_CHACHA);
    assert_int_equal(tls_ssl_options_parse("NO_TICKET NO_SUCH_OPTION", &options, why), -1);
    assert_non_null(strstr(why->data, "NO_SUCH_OPTION"));
    strbuf_free(why);
}

static tls_session_info sample_info(void)
{
    tls_session_info info = {0};

    info.protocol = "TLSv1.3";
    info.cipher_name = "TLS_AES_128_GCM_SHA256";
    info.cipher_usebits = info.cipher_algbits = 128;
    info.kex_name = "ECDHE";
    info.kex_curve = "prime256v1";
    info.server_sig_name = "ECDSA";
    info.server_sig_curve = "secp384r1";
    info.server_sig_digest = "SHA384";
    return info;
}

static void test_summary_lines(void **state)
{
    tls_session_info info = sample_info();
    strbuf *line = strbuf_new(64);

    tls_session_summary(&info, 0, "h[192.0.2.9]", line);
    assert_string_equal(line->data, "Anonymous TLS connection established from h[192.0.2.9]: "
                        "TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits) "
                        "key-exchange ECDHE (prime256v1) server-signature ECDSA (secp384r1) "
                        "server-digest SHA384");
    info.peer_cert = 1;
    info.kex_name = "DHE";
    info.kex_curve = NULL;
    info.kex_bits = 3072;
    info.server_sig_name = NULL;
    tls_session_summary(&info, 1, "mx[192.0.2.1]:25", line);
    assert_string_equal(line->data, "Untrusted TLS connection established to mx[192.0.2.1]:25: "
                        "TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits) "
                        "key-exchange DHE (3072 bits)");
    info.peer_trusted = 1;
    tls_session_summary(&info, 1, "mx", line);
    assert_non_null(strstr(line->data, "Trusted TLS connection established to mx: "));
    info.peer_matched = 1;
    tls_session_summary(&info, 1, "mx", line);
    assert_non_null(strstr(line->data, "Verified TLS connection established to mx: "));
    strbuf_free(line);
}

static void test_received_lines_without_key_exchange(void **state)
{
    tls_session_info info = sample_info();
    argv_t *lines = argv_new(4);

    info.kex_name = NULL;                       /* a resumed session: no signatures */
    info.server_sig_name = NULL;
    info.ccert_requested = 1;
    tls_received_lines(&info, lines);
    assert_int_equal(lines->count, 2);
    assert_string_equal(lines->items[0], "\t(using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 "
                        "(128/128 bits))");
    assert_string_equal(lines->items[1], "\t(Client did not present a certificate)");
    argv_free(lines);
}

static X509_NAME *name_with_cn(const unsigned char *cn, int len)
{
    X509_NAME *name = X509_NAME_new();

    assert_true(X509_NAME_add_entry_by_NID(name, NID_commonName, V_ASN1_UTF8STRING, cn, len,
                                           -1, 0));
    return name;
}

static void test_certificate_names_sanitized(void **state)
{
    static const struct {
        const char *cn;
        int     len;
        const char *shown;
    } cases[] = {
        {"mx.example.com", 14, "mx.example.com"},
        {"evil\r\nX-Injected: yes", 21, "evil??X-Injected: yes"},
        {"q\"u(o)t\\e", 9, "q?u?o?t?e"},
        {"caf\xc3\xa9", 5, "caf??"},
        {"nul\0byte", 8, ""},
        {"0123456789012345678901234567890123456789012345678901234567890123456789", 70, ""},
    };
    strbuf *out = strbuf_new(64);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        X509_NAME *name = name_with_cn((const unsigned char *) cases[i].cn, cases[i].len);

        tls_text_name(name, NID_commonName, "peer CommonName", out);
        assert_string_equal(out->data, cases[i].shown);
        X509_NAME_free(name);
    }
    tls_text_name(NULL, NID_commonName, "peer CommonName", out);
    assert_string_equal(out->data, "");
    strbuf_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_names),
        cmocka_unit_test(test_server_level_and_legacy_parameters),
        cmocka_unit_test(test_client_level_and_legacy_parameters),
        cmocka_unit_test(test_effective_level),
        cmocka_unit_test(test_starttls_decision_matrix),
        cmocka_unit_test(test_policy_values),
        cmocka_unit_test(test_policy_errors),
        cmocka_unit_test(test_protocol_lists),
        cmocka_unit_test(test_protocol_ranges),
        cmocka_unit_test(test_cipherlists),
        cmocka_unit_test(test_ssl_options),
        cmocka_unit_test(test_summary_lines),
        cmocka_unit_test(test_received_lines_without_key_exchange),
        cmocka_unit_test(test_certificate_names_sanitized),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}

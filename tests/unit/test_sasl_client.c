/*
 * Unit tests for the SASL building blocks the SMTP client and server share:
 * strict base64, security options, mechanism filters, and the client's
 * PLAIN and LOGIN mechanisms and mechanism selection.
 */
#include "unit.h"

#include "base64.h"
#include "sasl_client.h"
#include "sasl_mech.h"
#include "strbuf.h"

static void assert_decodes(const char *text, const void *bytes, size_t len)
{
    strbuf *out = strbuf_new(8);

    assert_int_equal(base64_decode(text, strlen(text), out), 0);
    assert_int_equal(out->len, len);
    assert_memory_equal(out->data, bytes, len);
    strbuf_free(out);
}

static void assert_refused(const char *text, size_t len)
{
    strbuf *out = strbuf_new(8);

    assert_int_equal(base64_decode(text, len, out), -1);
    assert_int_equal(out->len, 0);
    strbuf_free(out);
}

/* RFC 4648 section 10 test vectors, both directions. */
static void test_base64_rfc4648_vectors(void **state)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
        "Zm9vYmFy"};
    strbuf *out = strbuf_new(8);

    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        strbuf_reset(out);
        base64_encode(plain[i], strlen(plain[i]), out);
        assert_string_equal(out->data, coded[i]);
        assert_decodes(coded[i], plain[i], strlen(plain[i]));
    }
    strbuf_free(out);
}

static void test_base64_binary_round_trip(void **state)
{
    unsigned char bytes[256];
    strbuf *coded = strbuf_new(8);
    strbuf *decoded = strbuf_new(8);

    for (int i = 0; i < 256; i++)
        bytes[i] = (unsigned char) (255 - i);
    for (size_t len = 0; len <= sizeof(bytes); len += 37) {
        strbuf_reset(coded);
        base64_encode(bytes, len, coded);
        assert_int_equal(coded->len, (len + 2) / 3 * 4);
        assert_int_equal(base64_decode(coded->data, coded->len, decoded), 0);
        assert_int_equal(decoded->len, len);
        assert_memory_equal(decoded->data, bytes, len);
    }
    strbuf_free(coded);
    strbuf_free(decoded);
}

static void test_base64_decoder_is_strict(void **state)
{
    assert_refused("Zg=", 3);                   /* length not a multiple of 4 */
    assert_refused("Zg", 2);
    assert_refused("Zm9v\r\n", 6);              /* line break */
    assert_refused("Zm 9", 4);                  /* space */
    assert_refused("Zm9\0", 4);                 /* NUL byte */
    assert_refused("Z===", 4);                  /* three padding characters */
    assert_refused("Zg==Zm9v", 8);              /* padding in the middle */
    assert_refused("=Zm9", 4);
    assert_refused("Zh==", 4);                  /* non-zero discarded bits */
    assert_refused("Zm9=", 4);
    assert_refused("Zm-v", 4);                  /* URL-safe alphabet */
    assert_refused("Zm_v", 4);
    assert_refused("Zm9v\x80\x80\x80\x80", 8);  /* 8-bit */
    assert_decodes("Zm8=", "fo", 2);
    assert_decodes("AA==", "\0", 1);
}

static void test_security_options(void **state)
{
    strbuf *why = strbuf_new(32);
    int     flags;

    assert_int_equal(sasl_security_parse("noplaintext, noanonymous", &flags, why), 0);
    assert_int_equal(flags, SASL_SEC_NOPLAINTEXT | SASL_SEC_NOANONYMOUS);
    assert_int_equal(sasl_security_parse("", &flags, why), 0);
    assert_int_equal(flags, 0);
    assert_int_equal(sasl_security_parse("noactive nodictionary mutual_auth forward_secrecy",
                                         &flags, why), 0);
    assert_int_equal(flags, SASL_SEC_NOACTIVE | SASL_SEC_NODICTIONARY | SASL_SEC_MUTUAL_AUTH
                     | SASL_SEC_FORWARD_SECRECY);
    assert_int_equal(sasl_security_parse("noanonymous, nosuchthing", &flags, why), -1);
    assert_non_null(strstr(why->data, "nosuchthing"));

    assert_false(sasl_security_allows(SASL_SEC_NOPLAINTEXT, SASL_PROP_PLAINTEXT));
    assert_true(sasl_security_allows(SASL_SEC_NOANONYMOUS, SASL_PROP_PLAINTEXT));
    assert_false(sasl_security_allows(SASL_SEC_NOANONYMOUS, SASL_PROP_ANONYMOUS));
    assert_false(sasl_security_allows(SASL_SEC_NODICTIONARY, SASL_PROP_DICTIONARY));
    assert_false(sasl_security_allows(SASL_SEC_NOACTIVE, SASL_PROP_ACTIVE));
    assert_false(sasl_security_allows(SASL_SEC_MUTUAL_AUTH, SASL_PROP_PLAINTEXT));
    assert_true(sasl_security_allows(SASL_SEC_MUTUAL_AUTH, SASL_PROP_MUTUAL_AUTH));
    assert_false(sasl_security_allows(SASL_SEC_FORWARD_SECRECY, 0));
    assert_false(sasl_security_allows(0, SASL_PROP_PRIVATE));
    strbuf_free(why);
}

static void test_mechanism_filter(void **state)
{
    strbuf *why = strbuf_new(32);
    sasl_filter *filter = sasl_filter_parse("!external, static:rest", why);

    assert_non_null(filter);                    /* Postfix's default */
    assert_false(sasl_filter_allows(filter, "EXTERNAL"));
    assert_false(sasl_filter_allows(filter, "external"));
    assert_true(sasl_filter_allows(filter, "PLAIN"));
    sasl_filter_free(filter);

    filter = sasl_filter_parse("plain, login", why);
    assert_true(sasl_filter_allows(filter, "PLAIN"));
    assert_true(sasl_filter_allows(filter, "LOGIN"));
    assert_false(sasl_filter_allows(filter, "CRAM-MD5"));   /* no match: excluded */
    sasl_filter_free(filter);

    filter = sasl_filter_parse("", why);                    /* empty: no filtering */
    assert_true(sasl_filter_allows(filter, "ANYTHING"));
    sasl_filter_free(filter);
    assert_true(sasl_filter_allows(NULL, "PLAIN"));

    assert_null(sasl_filter_parse("hash:/etc/postfix/mechs", why));
    assert_non_null(strstr(why->data, "hash:/etc/postfix/mechs"));
    assert_null(sasl_filter_parse("!/etc/postfix/mechs", why));
    strbuf_free(why);
}

static void test_mechanism_names(void **state)
{
    assert_true(sasl_mech_name_valid("PLAIN", 5));
    assert_true(sasl_mech_name_valid("SCRAM-SHA-256-PLUS", 18));
    assert_true(sasl_mech_name_valid("X_Y", 3));
    assert_false(sasl_mech_name_valid("plain", 5));
    assert_false(sasl_mech_name_valid("", 0));
    assert_false(sasl_mech_name_valid("A23456789012345678901", 21));
    assert_false(sasl_mech_name_valid("PL AIN", 6));
}

static void test_client_selects_mechanism(void **state)
{
    strbuf *mech = strbuf_new(16);
    strbuf *why = strbuf_new(32);
    sasl_filter *only_login = sasl_filter_parse("login", why);

    assert_int_equal(sasl_client_select("CRAM-MD5 login PLAIN", SASL_SEC_NOANONYMOUS, NULL,
                                        mech, why), 0);
    assert_string_equal(mech->data, "PLAIN");   /* preferred */
    assert_int_equal(sasl_client_select("LOGIN CRAM-MD5", 0, NULL, mech, why), 0);
    assert_string_equal(mech->data, "LOGIN");
    assert_int_equal(sasl_client_select("PLAIN LOGIN", 0, only_login, mech, why), 0);
    assert_string_equal(mech->data, "LOGIN");
    /* Postfix's default smtp_sasl_security_options exclude plaintext mechanisms. */
    assert_int_equal(sasl_client_select("PLAIN LOGIN", SASL_SEC_NOPLAINTEXT
                                        | SASL_SEC_NOANONYMOUS, NULL, mech, why), -1);
    assert_string_equal(why->data, "no mechanism available");
    assert_int_equal(sasl_client_select("CRAM-MD5 GSSAPI", 0, NULL, mech, why), -1);
    assert_int_equal(sasl_client_select("", 0, NULL, mech, why), -1);
    sasl_filter_free(only_login);
    strbuf_free(mech);
    strbuf_free(why);
}

/* RFC 4616: [authzid] NUL authcid NUL passwd, base64 in the AUTH command. */
static void test_client_plain(void **state)
{
    strbuf *why = strbuf_new(32);
    strbuf *out = strbuf_new(32);
    strbuf *decoded = strbuf_new(32);
    sasl_client *client = sasl_client_new("plain", "tim", "tanstaaftanstaaf", why);

    assert_non_null(client);
    assert_int_equal(sasl_client_initial_response(client, out), 1);
    assert_string_equal(out->data, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
    assert_int_equal(base64_decode(out->data, out->len, decoded), 0);
    assert_memory_equal(decoded->data, "\0tim\0tanstaaftanstaaf", 21);
    /* A challenge after the initial response is a protocol error. */
    assert_int_equal(sasl_client_step(client, "", out, why), -1);
    assert_non_null(strstr(why->data, "unexpected PLAIN challenge"));
    sasl_client_free(client);
    strbuf_free(why);
    strbuf_free(out);
    strbuf_free(decoded);
}

static void test_client_login(void **state)
{
    strbuf *why = strbuf_new(32);
    strbuf *out = strbuf_new(32);
    sasl_client *client = sasl_client_new("LOGIN", "alice", "s3cret", why);

    assert_int_equal(sasl_client_initial_response(client, out), 0);
    assert_int_equal(out->len, 0);
    assert_int_equal(sasl_client_step(client, "VXNlcm5hbWU6", out, why), 0);  /* Username: */
    assert_string_equal(out->data, "YWxpY2U=");
    assert_int_equal(sasl_client_step(client, "UGFzc3dvcmQ6", out, why), 0);  /* Password: */
    assert_string_equal(out->data, "czNjcmV0");
    assert_int_equal(sasl_client_step(client, "UGFzc3dvcmQ6", out, why), -1);
    assert_non_null(strstr(why->data, "unexpected LOGIN challenge"));
    sasl_client_free(client);

    client = sasl_client_new("LOGIN", "alice", "s3cret", why);
    assert_int_equal(sasl_client_step(client, "VXNlcm5hbWU6\r\n", out, why), -1);
    assert_non_null(strstr(why->data, "malformed base64"));
    sasl_client_free(client);
    strbuf_free(why);
    strbuf_free(out);
}

static void test_client_refuses_bad_setup(void **state)
{
    strbuf *why = strbuf_new(32);

    assert_null(sasl_client_new("CRAM-MD5", "alice", "x", why));
    assert_non_null(strstr(why->data, "unsupported SASL mechanism"));
    assert_null(sasl_client_new("PLAIN", "", "x", why));
    assert_null(sasl_client_new("PLAIN", "alice", "", why));
    assert_null(sasl_client_new("PLAIN", NULL, "x", why));
    strbuf_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_rfc4648_vectors),
        cmocka_unit_test(test_base64_binary_round_trip),
        cmocka_unit_test(test_base64_decoder_is_strict),
        cmocka_unit_test(test_security_options),
        cmocka_unit_test(test_mechanism_filter),
        cmocka_unit_test(test_mechanism_names),
        cmocka_unit_test(test_client_selects_mechanism),
        cmocka_unit_test(test_client_plain),
        cmocka_unit_test(test_client_login),
        cmocka_unit_test(test_client_refuses_bad_setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

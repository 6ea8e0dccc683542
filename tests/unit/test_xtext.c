/* Unit tests for xtext (RFC 3461) and ORCPT (RFC 3461, RFC 6533). */
#include "unit.h"

#include "xtext.h"

static void check_decode(const char *xtext, const char *expected, size_t expected_len)
{
    strbuf *out = strbuf_new(0);

    assert_int_equal(xtext_decode(out, xtext, strlen(xtext)), 0);
    assert_int_equal(out->len, expected_len);
    assert_memory_equal(out->data, expected, expected_len);
    assert_true(xtext_valid(xtext, strlen(xtext)));
    strbuf_free(out);
}

static void check_decode_fails(const char *xtext, size_t len)
{
    strbuf *out = strbuf_from("kept");

    assert_int_equal(xtext_decode(out, xtext, len), -1);
    assert_string_equal(out->data, "kept");
    assert_false(xtext_valid(xtext, len));
    strbuf_free(out);
}

static void test_xtext_decode(void **state)
{
    check_decode("", "", 0);
    check_decode("user@example.com", "user@example.com", 16);
    check_decode("a+2Bb+3Dc", "a+b=c", 5);
    check_decode("+0D+0A", "\r\n", 2);           /* decodes; callers refuse */
    check_decode("+00", "\0", 1);
    check_decode("+2b", "+", 1);                 /* lowercase hex tolerated */
}

static void test_xtext_decode_bad(void **state)
{
    check_decode_fails("a+", 2);
    check_decode_fails("a+2", 3);
    check_decode_fails("a+2G", 4);
    check_decode_fails("a=b", 3);
    check_decode_fails("a b", 3);
    check_decode_fails("a\rb", 3);
    check_decode_fails("a\nb", 3);
    check_decode_fails("a\0b", 3);
    check_decode_fails("\xc3\xa9", 2);
    check_decode_fails("a\x7f", 2);
}

static void test_xtext_encode_round_trip(void **state)
{
    strbuf *encoded = strbuf_new(0);
    strbuf *decoded = strbuf_new(0);
    char    all[256];

    for (int i = 0; i < 256; i++)
        all[i] = (char) i;
    xtext_encode(encoded, all, sizeof(all));
    assert_true(xtext_valid(encoded->data, encoded->len));
    assert_int_equal(xtext_decode(decoded, encoded->data, encoded->len), 0);
    assert_int_equal(decoded->len, 256);
    assert_memory_equal(decoded->data, all, 256);
    strbuf_reset(encoded);
    xtext_encode(encoded, "a+b=c d", 7);
    assert_string_equal(encoded->data, "a+2Bb+3Dc+20d");
    strbuf_free(encoded);
    strbuf_free(decoded);
}

static void check_orcpt(const char *value, int flags, const char *type, const char *address)
{
    strbuf *t = strbuf_new(0);
    strbuf *a = strbuf_new(0);

    assert_int_equal(orcpt_decode(value, strlen(value), flags, t, a), 0);
    assert_string_equal(t->data, type);
    assert_string_equal(a->data, address);
    strbuf_free(t);
    strbuf_free(a);
}

static void check_orcpt_fails(const char *value, size_t len, int flags)
{
    strbuf *t = strbuf_from("x");
    strbuf *a = strbuf_from("y");

    assert_int_equal(orcpt_decode(value, len, flags, t, a), -1);
    assert_int_equal(t->len, 0);
    assert_int_equal(a->len, 0);
    strbuf_free(t);
    strbuf_free(a);
}

static void test_orcpt_decode(void **state)
{
    check_orcpt("rfc822;user@example.com", 0, "rfc822", "user@example.com");
    check_orcpt("RFC822;a+2Bb@x", 0, "rfc822", "a+b@x");
    check_orcpt("rfc822;\"john+20doe\"@x", 0, "rfc822", "\"john doe\"@x");
    check_orcpt("utf-8;j\\x{F6}rg@example.com", 0, "utf-8", "j\xc3\xb6rg@example.com");
    check_orcpt("UTF-8;\\x{1F600}@x", 0, "utf-8", "\xf0\x9f\x98\x80@x");
    check_orcpt("utf-8;a\\x{2B}b@x", 0, "utf-8", "a+b@x");
    check_orcpt("utf-8;j\xc3\xb6rg@x", ORCPT_UTF8, "utf-8", "j\xc3\xb6rg@x");
}

static void test_orcpt_decode_bad(void **state)
{
    char    longer[ORCPT_MAX_LENGTH + 2];

    check_orcpt_fails("user@example.com", 16, 0);             /* no type */
    check_orcpt_fails(";user@x", 7, 0);                        /* empty type */
    check_orcpt_fails("rfc822;", 7, 0);                        /* empty address */
    check_orcpt_fails("x400;user", 9, 0);                      /* other type */
    check_orcpt_fails("rfc822;a+0D+0AMAIL FROM:<x>", 27, 0);   /* CR LF decoded */
    check_orcpt_fails("rfc822;a+00b", 12, 0);                  /* NUL decoded */
    check_orcpt_fails("rfc822;a+C3+A9", 14, 0);                /* 8-bit decoded */
    check_orcpt_fails("rfc822;a\rb", 10, 0);
    check_orcpt_fails("rfc822;a+2", 10, 0);
    check_orcpt_fails("utf-8;j\xc3\xb6rg@x", 11, 0);           /* raw UTF-8, no SMTPUTF8 */
    check_orcpt_fails("utf-8;a\xc3@x", 10, ORCPT_UTF8);        /* malformed */
    check_orcpt_fails("utf-8;a\\x{D800}@x", 17, 0);            /* surrogate */
    check_orcpt_fails("utf-8;a\\x{110000}@x", 19, 0);
    check_orcpt_fails("utf-8;a\\x{1234567}@x", 20, 0);
    check_orcpt_fails("utf-8;a\\x{D}@x", 14, 0);               /* CR escaped */
    check_orcpt_fails("utf-8;a\\x{85}@x", 15, 0);              /* C1 control */
    check_orcpt_fails("utf-8;a\\x{}@x", 13, 0);
    check_orcpt_fails("utf-8;a\\x{41@x", 14, 0);
    check_orcpt_fails("utf-8;a\\y@x", 11, 0);
    check_orcpt_fails("utf-8;a+b@x", 11, 0);                   /* '+' not QCHAR */
    check_orcpt_fails("utf-8;a b@x", 11, 0);
    memset(longer, 'a', sizeof(longer));
    memcpy(longer, "rfc822;", 7);
    check_orcpt_fails(longer, sizeof(longer), 0);
    check_orcpt("rfc822;aaaa", 0, "rfc822", "aaaa");
}

static void test_orcpt_encode(void **state)
{
    strbuf *out = strbuf_new(0);
    strbuf *type = strbuf_new(0);
    strbuf *address = strbuf_new(0);

    orcpt_encode(out, "rfc822", "a+b c@x", 7);
    assert_string_equal(out->data, "rfc822;a+2Bb+20c@x");
    strbuf_reset(out);
    orcpt_encode(out, "UTF-8", "j\xc3\xb6rg+1 \\@x", 11);
    assert_string_equal(out->data, "utf-8;j\\x{F6}rg\\x{2B}1\\x{20}\\x{5C}@x");
    assert_int_equal(orcpt_decode(out->data, out->len, 0, type, address), 0);
    assert_string_equal(address->data, "j\xc3\xb6rg+1 \\@x");
    strbuf_reset(out);
    orcpt_encode(out, "utf-8", "a\xff", 2);
    assert_string_equal(out->data, "utf-8;a\\x{FFFD}");
    strbuf_free(out);
    strbuf_free(type);
    strbuf_free(address);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xtext_decode),
        cmocka_unit_test(test_xtext_decode_bad),
        cmocka_unit_test(test_xtext_encode_round_trip),
        cmocka_unit_test(test_orcpt_decode),
        cmocka_unit_test(test_orcpt_decode_bad),
        cmocka_unit_test(test_orcpt_encode),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

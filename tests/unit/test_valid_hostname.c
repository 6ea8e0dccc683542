/* Unit tests for valid_hostname: host names, IPv4, IPv6, address literals. */
#include <arpa/inet.h>

#include "unit.h"

#include "valid_hostname.h"

#define CHECK(fn, text, expected) \
    assert_int_equal(fn(text, strlen(text)), expected)
#define CHECK_NAME(text, flags, expected) \
    assert_int_equal(valid_hostname(text, strlen(text), flags), expected)

static void test_hostname_good(void **state)
{
    static const char *const good[] = {
        "example.com", "a", "localhost", "mx-1.example.org", "1x.example",
        "123.example.com", "xn--bcher-kva.example", "A.B.C.D.E.F",
        "a.b-c.d", "sub.123abc",
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK_NAME(good[i], 0, 1);
}

static void test_hostname_bad(void **state)
{
    static const char *const bad[] = {
        "", ".", "a..b", ".a", "a.", "-a.example", "a-.example", "a.-b",
        "a b", "a_b", "ex@mple", "192.0.2.1", "host.123", "123", "a.b.",
        "[1.2.3.4]", "a,b", "a\tb", "caf\xc3\xa9.example", "a;sleep 5",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_NAME(bad[i], 0, 0);
    assert_int_equal(valid_hostname("a\0b", 3, 0), 0);
    assert_int_equal(valid_hostname("ab\0", 3, 0), 0);
}

static void test_hostname_lengths(void **state)
{
    char    name[300];

    memset(name, 'a', 63);
    name[63] = 0;
    CHECK_NAME(name, 0, 1);
    memset(name, 'a', 64);
    name[64] = 0;
    CHECK_NAME(name, 0, 0);                     /* label 64 */
    /* 4 labels of 63 plus 3 dots = 255: allowed; one more byte is not. */
    for (int i = 0; i < 4; i++) {
        memset(name + i * 64, 'b', 63);
        name[i * 64 + 63] = '.';
    }
    name[255] = 0;
    CHECK_NAME(name, 0, 1);
    name[254] = 0;
    strcat(name, "bc");
    assert_int_equal(strlen(name), 256);
    CHECK_NAME(name, 0, 0);
}

static void test_hostname_flags(void **state)
{
    CHECK_NAME("a_b.example", HOSTNAME_ALLOW_UNDERSCORE, 1);
    CHECK_NAME("_dmarc.example", HOSTNAME_ALLOW_UNDERSCORE, 1);
    CHECK_NAME("caf\xc3\xa9.example", HOSTNAME_ALLOW_UTF8, 1);
    CHECK_NAME("caf\xc3.example", HOSTNAME_ALLOW_UTF8, 0);     /* truncated */
    CHECK_NAME("\xc0\xaf.example", HOSTNAME_ALLOW_UTF8, 0);    /* overlong */
    CHECK_NAME("\xed\xa0\x80.example", HOSTNAME_ALLOW_UTF8, 0); /* surrogate */
    CHECK_NAME("example.com.", HOSTNAME_ALLOW_TRAILING_DOT, 1);
    CHECK_NAME("example.com..", HOSTNAME_ALLOW_TRAILING_DOT, 0);
    CHECK_NAME(".", HOSTNAME_ALLOW_TRAILING_DOT, 0);
}

static void test_fqdn(void **state)
{
    assert_true(is_fqdn("mx.example.com", 14, 0));
    assert_true(is_fqdn("example.com", 11, 0));
    assert_false(is_fqdn("localhost", 9, 0));
    assert_false(is_fqdn("a..b", 4, 0));
    assert_false(is_fqdn("example.com.", 12, 0));
    assert_true(is_fqdn("example.com.", 12, HOSTNAME_ALLOW_TRAILING_DOT));
}

static void test_ipv4(void **state)
{
    CHECK(valid_ipv4, "192.0.2.1", 1);
    CHECK(valid_ipv4, "0.0.0.0", 1);
    CHECK(valid_ipv4, "255.255.255.255", 1);
    CHECK(valid_ipv4, "256.1.1.1", 0);
    CHECK(valid_ipv4, "1.2.3", 0);
    CHECK(valid_ipv4, "1.2.3.4.5", 0);
    CHECK(valid_ipv4, "01.2.3.4", 0);            /* leading zero */
    CHECK(valid_ipv4, "1.2.3.04", 0);
    CHECK(valid_ipv4, "1..3.4", 0);
    CHECK(valid_ipv4, "1.2.3.4 ", 0);
    CHECK(valid_ipv4, "1.2.3.a", 0);
    CHECK(valid_ipv4, "", 0);
    CHECK(valid_ipv4, "1234.1.1.1", 0);
    assert_int_equal(valid_ipv4("1.2.3.4\0", 8), 0);
}

static void test_ipv6(void **state)
{
    static const char *const good[] = {
        "::", "::1", "1::", "2001:db8::1", "2001:DB8:0:0:0:0:0:1",
        "1:2:3:4:5:6:7:8", "::ffff:192.0.2.1", "1:2:3:4:5:6:1.2.3.4",
        "1::1.2.3.4", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "0000:0::0",
    };
    static const char *const bad[] = {
        "", ":", ":::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3",
        "12345::", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", ":1::", "1::2:",
        "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3", "::01.2.3.4", "g::", "1::%eth0",
        "[::1]", "::1 ", "1.2.3.4",
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK(valid_ipv6, good[i], 1);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(valid_ipv6, bad[i], 0);
}

/* Our IPv6 and IPv4 checks agree with the C library on generated inputs. */
static void test_agrees_with_inet_pton(void **state)
{
    static const char alphabet[] = "0123:.af";
    unsigned char buf[16];
    char    text[12];

    for (unsigned seed = 0; seed < 200000; seed++) {
        unsigned n = seed;
        size_t  len = 1 + n % 11;

        n /= 11;
        for (size_t i = 0; i < len; i++) {
            text[i] = alphabet[n % 8];
            n = n / 8 + seed * 2654435761u;
        }
        text[len] = 0;
        assert_int_equal(valid_ipv6(text, len), inet_pton(AF_INET6, text, buf) == 1);
        assert_int_equal(valid_ipv4(text, len), inet_pton(AF_INET, text, buf) == 1);
    }
}

static void test_address_literal(void **state)
{
    CHECK(valid_address_literal, "[192.0.2.1]", 1);
    CHECK(valid_address_literal, "[IPv6:2001:db8::1]", 1);
    CHECK(valid_address_literal, "[ipv6:::1]", 1);
    CHECK(valid_address_literal, "[2001:db8::1]", 0);      /* tag missing */
    CHECK(valid_address_literal, "[IPv6:192.0.2.1]", 0);
    CHECK(valid_address_literal, "[x-tag:anything]", 0);  /* general literal */
    CHECK(valid_address_literal, "192.0.2.1", 0);
    CHECK(valid_address_literal, "[192.0.2.1", 0);
    CHECK(valid_address_literal, "[]", 0);
    CHECK(valid_address_literal, "[IPv6:]", 0);
    CHECK(valid_address_literal, "[ 192.0.2.1]", 0);
    assert_int_equal(valid_address_literal("[1.2.3.4\0]", 10), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostname_good),
        cmocka_unit_test(test_hostname_bad),
        cmocka_unit_test(test_hostname_lengths),
        cmocka_unit_test(test_hostname_flags),
        cmocka_unit_test(test_fqdn),
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_agrees_with_inet_pton),
        cmocka_unit_test(test_address_literal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for mail_addr (internal/external forms) and mail_utf8. */
#include "unit.h"

#include "mail_addr.h"
#include "mail_utf8.h"

static void check_externalize(const char *internal, const char *external)
{
    strbuf *out = strbuf_new(0);

    mail_addr_externalize(out, internal, strlen(internal));
    assert_string_equal(out->data, external);
    strbuf_free(out);
}

static void check_round_trip(const char *external, const char *internal)
{
    strbuf *out = strbuf_new(0);

    assert_int_equal(mail_addr_unquote(out, external, strlen(external)), 0);
    assert_string_equal(out->data, internal);
    strbuf_reset(out);
    mail_addr_externalize(out, internal, strlen(internal));
    assert_string_equal(out->data, external);
    strbuf_free(out);
}

static void test_split_at_last_at(void **state)
{
    mail_addr_parts parts;
    const char *addr = "user@remote@us";

    mail_addr_split(addr, strlen(addr), &parts);
    assert_int_equal(parts.local_len, 11);
    assert_memory_equal(parts.local, "user@remote", 11);
    assert_int_equal(parts.domain_len, 2);
    assert_memory_equal(parts.domain, "us", 2);

    mail_addr_split("postmaster", 10, &parts);
    assert_int_equal(parts.local_len, 10);
    assert_null(parts.domain);

    mail_addr_split("user@", 5, &parts);
    assert_int_equal(parts.local_len, 4);
    assert_non_null(parts.domain);
    assert_int_equal(parts.domain_len, 0);
}

static void test_local_part_only(void **state)
{
    assert_true(mail_addr_is_local_part_only("postmaster", 10));
    assert_true(mail_addr_is_local_part_only("", 0));
    assert_false(mail_addr_is_local_part_only("a@b", 3));
    assert_false(mail_addr_is_local_part_only("@b", 2));
}

static void test_dot_atom(void **state)
{
    assert_true(mail_addr_local_is_dot_atom("john.doe", 8));
    assert_true(mail_addr_local_is_dot_atom("a+tag", 5));
    assert_true(mail_addr_local_is_dot_atom("${run{x}}", 9));  /* atext, data only */
    assert_true(mail_addr_local_is_dot_atom("j\xc3\xb6rg", 5)); /* UTF-8 */
    assert_false(mail_addr_local_is_dot_atom("", 0));
    assert_false(mail_addr_local_is_dot_atom("john doe", 8));
    assert_false(mail_addr_local_is_dot_atom(".a", 2));
    assert_false(mail_addr_local_is_dot_atom("a.", 2));
    assert_false(mail_addr_local_is_dot_atom("a..b", 4));
    assert_false(mail_addr_local_is_dot_atom("a@b", 3));
    assert_false(mail_addr_local_is_dot_atom(";sleep 5;", 9));
}

static void test_externalize(void **state)
{
    check_externalize("john.doe@example.com", "john.doe@example.com");
    check_externalize("john doe@example.com", "\"john doe\"@example.com");
    check_externalize("user@remote@us", "\"user@remote\"@us");
    check_externalize("a\"b\\c@x", "\"a\\\"b\\\\c\"@x");
    check_externalize("postmaster", "postmaster");
    check_externalize("", "");
    check_externalize("a..b@x", "\"a..b\"@x");
    check_externalize(";sleep 5;@x", "\";sleep 5;\"@x");
    check_externalize("user@[192.0.2.1]", "user@[192.0.2.1]");
    check_externalize("evil\r\nRCPT TO:<x>@y", "\"evil??RCPT TO:<x>\"@y");
    check_externalize("a@b\nc", "a@b?c");
}

static void test_round_trips(void **state)
{
    check_round_trip("\"john doe\"@example.com", "john doe@example.com");
    check_round_trip("\"user@remote\"@us", "user@remote@us");
    check_round_trip("\"a\\\"b\"@x", "a\"b@x");
    check_round_trip("plain@example.com", "plain@example.com");
    check_round_trip("user%remote@us", "user%remote@us");
    check_round_trip("remote!user@us", "remote!user@us");
}

static void test_unquote(void **state)
{
    strbuf *out = strbuf_from("keep:");

    assert_int_equal(mail_addr_unquote(out, "\"a\".\"b\"@x", 9), 0);
    assert_string_equal(out->data, "keep:a.b@x");
    strbuf_set(out, "keep:");
    assert_int_equal(mail_addr_unquote(out, "\"open@x", 7), -1);
    assert_string_equal(out->data, "keep:");
    assert_int_equal(mail_addr_unquote(out, "a\\b@x", 5), -1);
    assert_int_equal(mail_addr_unquote(out, "a@\"x\"", 5), -1);
    assert_int_equal(mail_addr_unquote(out, "a\r\n@x", 5), -1);
    assert_int_equal(mail_addr_unquote(out, "a@x\0y", 5), -1);
    assert_int_equal(mail_addr_unquote(out, "\"a\\\"@x", 6), -1);
    assert_int_equal(mail_addr_unquote(out, "\"a\\\r\"@x", 7), -1);
    assert_string_equal(out->data, "keep:");
    strbuf_free(out);
}

static void test_lowercase_domain(void **state)
{
    strbuf *addr = strbuf_from("John.Doe@Example.COM");

    mail_addr_lowercase_domain(addr);
    assert_string_equal(addr->data, "John.Doe@example.com");
    strbuf_set(addr, "User@Remote@US");
    mail_addr_lowercase_domain(addr);
    assert_string_equal(addr->data, "User@Remote@us");
    strbuf_set(addr, "Postmaster");
    mail_addr_lowercase_domain(addr);
    assert_string_equal(addr->data, "Postmaster");
    strbuf_free(addr);
}

static void test_utf8(void **state)
{
    strbuf *out = strbuf_new(0);
    uint32_t cp;

    assert_true(utf8_valid("", 0));
    assert_true(utf8_valid("abc\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 12));
    assert_false(utf8_valid("\x80", 1));
    assert_false(utf8_valid("\xc3", 1));
    assert_false(utf8_valid("\xc0\x80", 2));            /* overlong NUL */
    assert_false(utf8_valid("\xe0\x80\xaf", 3));        /* overlong */
    assert_false(utf8_valid("\xed\xb0\x80", 3));        /* surrogate */
    assert_false(utf8_valid("\xf4\x90\x80\x80", 4));    /* > U+10FFFF */
    assert_false(utf8_valid("\xff", 1));
    assert_int_equal(utf8_decode((const unsigned char *) "\xe2\x82\xac", 3, &cp), 3);
    assert_int_equal(cp, 0x20AC);
    assert_int_equal(utf8_encode(out, 0x20AC), 0);
    assert_int_equal(utf8_encode(out, 0x1F600), 0);
    assert_int_equal(utf8_encode(out, 'a'), 0);
    assert_int_equal(utf8_encode(out, 0xE9), 0);
    assert_int_equal(utf8_encode(out, 0xD800), -1);
    assert_int_equal(utf8_encode(out, 0x110000), -1);
    assert_string_equal(out->data, "\xe2\x82\xac\xf0\x9f\x98\x80" "a\xc3\xa9");
    strbuf_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_at_last_at),
        cmocka_unit_test(test_local_part_only),
        cmocka_unit_test(test_dot_atom),
        cmocka_unit_test(test_externalize),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_unquote),
        cmocka_unit_test(test_lowercase_domain),
        cmocka_unit_test(test_utf8),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

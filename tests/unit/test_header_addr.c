/* Unit tests for header_addr: RFC 5322 address lists, rewriting, rendering. */
#include "unit.h"

#include "header_addr.h"

#define F_ANGLE     HEADER_ADDR_F_ANGLE
#define F_ROUTE     HEADER_ADDR_F_ROUTE
#define F_GROUP     HEADER_ADDR_F_GROUP
#define F_BAD       HEADER_ADDR_F_MALFORMED
#define F_8BIT      HEADER_ADDR_F_8BIT

typedef struct expected_addr {
    const char *address;
    int     flags;
    const char *span;                   /* the text at [start, end) */
} expected_addr;

static header_addr_list *parse(const char *value)
{
    return header_addr_parse(value, strlen(value), 0);
}

static void check_list(const char *value, const expected_addr *expected, size_t count)
{
    header_addr_list *list = parse(value);

    if (list->count != count)
        fail_msg("\"%s\": %zu addresses, expected %zu", value, list->count, count);
    for (size_t i = 0; i < count; i++) {
        const header_addr *item = &list->items[i];

        if (strcmp(item->address->data, expected[i].address) != 0
            || item->flags != expected[i].flags
            || item->end - item->start != strlen(expected[i].span)
            || memcmp(value + item->start, expected[i].span, item->end - item->start) != 0)
            fail_msg("\"%s\" #%zu: got \"%s\" flags %#x span \"%.*s\"", value, i,
                     item->address->data, item->flags, (int) (item->end - item->start),
                     value + item->start);
    }
    header_addr_list_free(list);
}

#define CHECK(value, ...) do { \
        static const expected_addr expected[] = { __VA_ARGS__ }; \
        check_list(value, expected, sizeof(expected) / sizeof(expected[0])); \
    } while (0)

static void check_none(const char *value, size_t dropped)
{
    header_addr_list *list = parse(value);

    assert_int_equal(list->count, 0);
    assert_int_equal(list->dropped, dropped);
    header_addr_list_free(list);
}

static void test_simple_forms(void **state)
{
    CHECK("user@example.com", {"user@example.com", 0, "user@example.com"});
    CHECK("  user@example.com  (John Doe)",
          {"user@example.com", 0, "user@example.com"});
    CHECK("John Doe <john@example.com>",
          {"john@example.com", F_ANGLE, "john@example.com"});
    CHECK("\"Doe, John\" <john@example.com>",
          {"john@example.com", F_ANGLE, "john@example.com"});
    CHECK("<john@example.com>", {"john@example.com", F_ANGLE, "john@example.com"});
    CHECK("a@x.example, B <b@y.example>,c@z.example",
          {"a@x.example", 0, "a@x.example"},
          {"b@y.example", F_ANGLE, "b@y.example"},
          {"c@z.example", 0, "c@z.example"});
    CHECK("alice", {"alice", 0, "alice"});
    CHECK("<>", {"", F_ANGLE, ""});
    CHECK("user@[192.0.2.1]", {"user@[192.0.2.1]", 0, "user@[192.0.2.1]"});
}

static void test_quoting(void **state)
{
    CHECK("\"john doe\"@example.com", {"john doe@example.com", 0, "\"john doe\"@example.com"});
    CHECK("\"a\\\"b\"@x.example", {"a\"b@x.example", 0, "\"a\\\"b\"@x.example"});
    CHECK("\"user@remote\"@us.example",
          {"user@remote@us.example", 0, "\"user@remote\"@us.example"});
    CHECK("Name <\"john doe\"@example.com>",
          {"john doe@example.com", F_ANGLE, "\"john doe\"@example.com"});
    CHECK("\"john\".\"doe\"@example.com",
          {"john.doe@example.com", 0, "\"john\".\"doe\"@example.com"});
}

static void test_comments(void **state)
{
    CHECK("(c1) user (c2) @ (c3) example.com (c4)",
          {"user@example.com", 0, "user (c2) @ (c3) example.com"});
    CHECK("Name (a (nested (deeper)) comment) <a@b.example> (x)",
          {"a@b.example", F_ANGLE, "a@b.example"});
    CHECK("a@b.example (comment, with comma; and <angle> and \\) paren)",
          {"a@b.example", 0, "a@b.example"});
    CHECK("(unterminated comment, x@y.example", );
}

static void test_groups(void **state)
{
    check_none("undisclosed-recipients:;", 0);
    check_none("undisclosed-recipients: ;", 0);
    check_none("", 0);
    check_none("   ", 0);
    check_none(" , ,, ", 0);
    CHECK("team: a@x.example, B <b@y.example>; c@z.example",
          {"a@x.example", F_GROUP, "a@x.example"},
          {"b@y.example", F_GROUP | F_ANGLE, "b@y.example"},
          {"c@z.example", 0, "c@z.example"});
    CHECK("empty:;, d@w.example", {"d@w.example", 0, "d@w.example"});
}

static void test_obsolete_forms(void **state)
{
    CHECK("<@a.example,@b.example:user@c.example>",
          {"user@c.example", F_ANGLE | F_ROUTE, "@a.example,@b.example:user@c.example"});
    CHECK("Name <@relay.example:user@c.example>, x@y.example",
          {"user@c.example", F_ANGLE | F_ROUTE, "@relay.example:user@c.example"},
          {"x@y.example", 0, "x@y.example"});
    CHECK("john . doe @ example . com", {"john.doe@example.com", 0, "john . doe @ example . com"});
    CHECK("a@b.example,,c@d.example",
          {"a@b.example", 0, "a@b.example"}, {"c@d.example", 0, "c@d.example"});
    CHECK("Mr. Smith <smith@x.example>", {"smith@x.example", F_ANGLE, "smith@x.example"});
}

static void test_folding(void **state)
{
    CHECK("John\r\n Doe <john@example.com>,\r\n\tx@y.example",
          {"john@example.com", F_ANGLE, "john@example.com"},
          {"x@y.example", 0, "x@y.example"});
    CHECK("\"john\r\n doe\"@example.com",
          {"john doe@example.com", 0, "\"john\r\n doe\"@example.com"});
    CHECK("\"a\tb\"@example.com", {"a b@example.com", 0, "\"a\tb\"@example.com"});
}

static void test_malformed(void **state)
{
    CHECK("John Doe john@example.com",
          {"JohnDoejohn@example.com", F_BAD, "John Doe john@example.com"});
    CHECK("<a@b.example", {"a@b.example", F_ANGLE | F_BAD, "a@b.example"});
    CHECK("<a@b.example> junk", {"a@b.example", F_ANGLE | F_BAD, "a@b.example"});
    CHECK("a@b@c.example", {"a@b@c.example", F_BAD, "a@b@c.example"});
    CHECK("@c.example", {"@c.example", F_BAD, "@c.example"});
    CHECK("user@", {"user@", F_BAD, "user@"});
    CHECK("\"unterminated", {"unterminated", F_BAD, "\"unterminated"});
    CHECK("a]b@c.example", {"a]b@c.example", F_BAD, "a]b@c.example"});
    CHECK("john@x.example <john@y.example>",
          {"john@y.example", F_ANGLE | F_BAD, "john@y.example"});
    CHECK("<<a@b.example>>", {"<a@b.example", F_ANGLE | F_BAD, "<a@b.example"});
    CHECK("Name <@a.example:>", {"", F_ANGLE | F_ROUTE | F_BAD, "@a.example:"});
}

static void test_dropped(void **state)
{
    header_addr_list *list;

    check_none("\"evil\x01\"@x.example", 1);
    check_none("a\x7f@x.example", 1);
    check_none("\"user@remote.example\"", 1);
    check_none("Name <\"user@remote.example\">", 1);
    list = header_addr_parse("a@b.example, bad\0x@y.example, c@d.example", 41, 0);
    assert_int_equal(list->count, 2);
    assert_int_equal(list->dropped, 1);
    assert_string_equal(list->items[1].address->data, "c@d.example");
    header_addr_list_free(list);
    /* Control characters in a comment or display name are not the address's. */
    CHECK("Na\x01me <a@b.example> (\x02)", {"a@b.example", F_ANGLE | F_BAD, "a@b.example"});
}

static void test_attack_data(void **state)
{
    CHECK("${run{/bin/sh -c id}}@localhost",
          {"${run{/bin/sh-cid}}@localhost", F_BAD, "${run{/bin/sh -c id}}@localhost"});
    CHECK("\"${run{/bin/sh -c id}}\"@localhost",
          {"${run{/bin/sh -c id}}@localhost", 0, "\"${run{/bin/sh -c id}}\"@localhost"});
    CHECK("\";sleep 5;\"@x.example", {";sleep 5;@x.example", 0, "\";sleep 5;\"@x.example"});
    CHECK("user%remote@us.example", {"user%remote@us.example", 0, "user%remote@us.example"});
    CHECK("remote!user@us.example", {"remote!user@us.example", 0, "remote!user@us.example"});
    CHECK("<@us.example:user@remote.example>",
          {"user@remote.example", F_ANGLE | F_ROUTE, "@us.example:user@remote.example"});
}

static void test_8bit(void **state)
{
    CHECK("J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc" "cher.example>",
          {"j\xc3\xb6rg@b\xc3\xbc" "cher.example", F_ANGLE | F_8BIT,
           "j\xc3\xb6rg@b\xc3\xbc" "cher.example"});
}

static void test_token_limit(void **state)
{
    const char *value = "a@b.example, c@d.example, e@f.example";
    header_addr_list *list;
    strbuf *out = strbuf_new(0);
    strbuf *big = strbuf_new(0);

    /* a @ b . example , c @ d . example , ...: 6 tokens per mailbox */
    list = header_addr_parse(value, strlen(value), 14);
    assert_true(list->truncated);
    assert_int_equal(list->count, 2);
    assert_string_equal(list->items[1].address->data, "c@d.example");
    strbuf_set(list->items[0].address, "z@z.example");
    header_addr_render(out, list);
    assert_string_equal(out->data, "z@z.example, c@d.example, e@f.example");
    header_addr_list_free(list);

    list = header_addr_parse(value, strlen(value), 17);     /* exactly enough */
    assert_false(list->truncated);
    assert_int_equal(list->count, 3);
    header_addr_list_free(list);

    /* The default limit holds against a huge list: memory stays bounded. */
    for (int i = 0; i < 20000; i++)
        strbuf_append_str(big, "x@y,");
    list = header_addr_parse(big->data, big->len, 0);
    assert_true(list->truncated);
    assert_int_equal(list->count, HEADER_ADDR_TOKEN_LIMIT / 4);
    header_addr_list_free(list);

    /* Deep comment nesting is a counter, not recursion. */
    strbuf_reset(big);
    for (int i = 0; i < 100000; i++)
        strbuf_append_char(big, '(');
    strbuf_append_str(big, "x");
    for (int i = 0; i < 100000; i++)
        strbuf_append_char(big, ')');
    strbuf_append_str(big, " a@b.example");
    list = header_addr_parse(big->data, big->len, 0);
    assert_int_equal(list->count, 1);
    assert_string_equal(list->items[0].address->data, "a@b.example");
    header_addr_list_free(list);
    strbuf_free(big);
    strbuf_free(out);
}

static void masquerade(header_addr *item, void *context)
{
    const char *suffix = ".sub.example";
    size_t  len = item->address->len;

    if (len > strlen(suffix) && strcmp(item->address->data + len - strlen(suffix), suffix) == 0)
        strbuf_set(item->address, strchr(item->address->data, '@') ? "user@example" : "");
    (void) context;
}

static void append_domain(header_addr *item, void *context)
{
    if (strchr(item->address->data, '@') == NULL && item->address->len > 0) {
        strbuf_append_char(item->address, '@');
        strbuf_append_str(item->address, context);
    }
}

static void check_rewrite(const char *value, header_addr_rewrite_fn fn, void *context,
                          const char *expected)
{
    header_addr_list *list = parse(value);
    strbuf *out = strbuf_new(0);

    header_addr_rewrite(list, fn, context);
    header_addr_render(out, list);
    assert_string_equal(out->data, expected);
    header_addr_list_free(list);
    strbuf_free(out);
}

static void test_rewrite_and_render(void **state)
{
    check_rewrite("\"Doe, J.\" <j@host.sub.example> (work),\r\n\tother@else.example",
                  masquerade, NULL,
                  "\"Doe, J.\" <user@example> (work),\r\n\tother@else.example");
    check_rewrite("alice, Bob <bob>, (c) carol (x), team: dave;", append_domain, "my.example",
                  "alice@my.example, Bob <bob@my.example>, (c) carol@my.example (x), "
                  "team: dave@my.example;");
    check_rewrite("undisclosed-recipients:;", append_domain, "my.example",
                  "undisclosed-recipients:;");
    check_rewrite("x <@r.example:u@h.sub.example>", masquerade, NULL, "x <user@example>");
    check_rewrite("a@h.sub.example", append_domain, "unused", "a@h.sub.example");
}

static void set_address(header_addr *item, void *context)
{
    strbuf_set(item->address, context);
}

static void test_render_quotes_new_addresses(void **state)
{
    check_rewrite("Name <a@b.example>", set_address, "john doe@x.example",
                  "Name <\"john doe\"@x.example>");
    check_rewrite("a@b.example (c)", set_address, "user@remote@us.example",
                  "\"user@remote\"@us.example (c)");
    check_rewrite("a@b.example", set_address, "", "<>");
    check_rewrite("<a@b.example>", set_address, "", "<>");
    check_rewrite("<>", set_address, "x@y.example", "<x@y.example>");
    check_rewrite("a@b.example", set_address, "evil\r\nBcc: x@y@z", "\"evil??Bcc: x@y\"@z");
    check_rewrite("\"john\"@b.example", set_address, "john@b.example", "\"john\"@b.example");
}

static void test_unchanged_render_is_identity(void **state)
{
    static const char *const values[] = {
        "John Doe <john@example.com>", "a, b, (c) <d>, \"e f\"@g", "x:;",
        "<@a:b@c>", "((()))", "\"open", "\x01\x02\x03", "a@b\r\n c@d",
    };

    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        header_addr_list *list = parse(values[i]);
        strbuf *out = strbuf_new(0);

        header_addr_render(out, list);
        assert_string_equal(out->data, values[i]);
        strbuf_free(out);
        header_addr_list_free(list);
    }
}

static void check_mailbox(const char *name, const char *address, const char *expected)
{
    strbuf *out = strbuf_new(0);

    header_addr_format_mailbox(out, name, strlen(name), address, strlen(address));
    assert_string_equal(out->data, expected);
    strbuf_free(out);
}

static void test_format_mailbox(void **state)
{
    check_mailbox("", "alice@example.com", "alice@example.com");
    check_mailbox("Alice Smith", "alice@example.com", "Alice Smith <alice@example.com>");
    check_mailbox("Smith, Alice", "alice@example.com", "\"Smith, Alice\" <alice@example.com>");
    check_mailbox("A \"Q\" \\ B", "a@x", "\"A \\\"Q\\\" \\\\ B\" <a@x>");
    check_mailbox("Evil\r\nBcc: x@y", "a@x", "\"Evil??Bcc: x@y\" <a@x>");
    check_mailbox("J\xc3\xb6rg", "joerg@x", "=?utf-8?B?SsO2cmc=?= <joerg@x>");
    check_mailbox("Bad\xff", "a@x", "Bad? <a@x>");
    check_mailbox("Bad\xff(x)", "a@x", "\"Bad?(x)\" <a@x>");
    check_mailbox("x", "john doe@x", "x <\"john doe\"@x>");
    check_mailbox(" lead", "a@x", "\" lead\" <a@x>");
}

static void test_format_mailbox_long_name(void **state)
{
    strbuf *name = strbuf_new(0);
    strbuf *out = strbuf_new(0);
    const char *word;
    size_t  words = 0;

    for (int i = 0; i < 40; i++)
        strbuf_append_str(name, "\xc3\xa9");    /* 80 bytes of e-acute */
    header_addr_format_mailbox(out, name->data, name->len, "a@x", 3);
    for (word = out->data; (word = strstr(word, "=?utf-8?B?")) != NULL; word++) {
        const char *end = strstr(word, "?=");

        assert_non_null(end);
        assert_true(end + 2 - word <= 75);
        words++;
    }
    assert_int_equal(words, 2);
    strbuf_free(name);
    strbuf_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_forms),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_obsolete_forms),
        cmocka_unit_test(test_folding),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_dropped),
        cmocka_unit_test(test_attack_data),
        cmocka_unit_test(test_8bit),
        cmocka_unit_test(test_token_limit),
        cmocka_unit_test(test_rewrite_and_render),
        cmocka_unit_test(test_render_quotes_new_addresses),
        cmocka_unit_test(test_unchanged_render_is_identity),
        cmocka_unit_test(test_format_mailbox),
        cmocka_unit_test(test_format_mailbox_long_name),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

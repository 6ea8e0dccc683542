/*
 * Unit tests for trivial-rewrite's canonical form (src/trivial-rewrite/
 * rewrite.h): empty and lone-@ addresses, source routes, bang paths, the
 * percent hack, @myorigin, .mydomain, trailing dots, the local and remote
 * contexts, and each switch turned off.
 */
#include "unit.h"

#include "../../src/trivial-rewrite/rewrite.h"

static rewrite_settings defaults(void)
{
    return (rewrite_settings) {
        .swap_bangpath = 1,
        .allow_percent_hack = 1,
        .append_at_myorigin = 1,
        .append_dot_mydomain = 0,
        .myorigin = "origin.example",
        .mydomain = "example.test",
        .remote_header_rewrite_domain = "",
    };
}

static void expect(const rewrite_settings *settings, enum rewrite_rule rule,
                   const char *address, const char *wanted)
{
    strbuf *out = strbuf_new(16);

    rewrite_address(settings, rule, address, out);
    assert_string_equal(out->data, wanted);
    assert_int_equal(out->len, strlen(wanted));
    strbuf_free(out);
}

static void test_rule_names(void **state)
{
    enum rewrite_rule rule;

    assert_int_equal(rewrite_rule_parse("local", &rule), 0);
    assert_int_equal(rule, REWRITE_RULE_LOCAL);
    assert_int_equal(rewrite_rule_parse("remote", &rule), 0);
    assert_int_equal(rule, REWRITE_RULE_REMOTE);
    assert_int_equal(rewrite_rule_parse("canonical", &rule), -1);
    assert_int_equal(rewrite_rule_parse("", &rule), -1);
    assert_int_equal(rewrite_rule_parse("LOCAL", &rule), -1);
}

static void test_empty_and_lone_at(void **state)
{
    rewrite_settings s = defaults();

    expect(&s, REWRITE_RULE_LOCAL, "", "");
    expect(&s, REWRITE_RULE_LOCAL, "@", "");
    expect(&s, REWRITE_RULE_REMOTE, "@", "");
}

static void test_complete_addresses_keep_their_case(void **state)
{
    rewrite_settings s = defaults();

    expect(&s, REWRITE_RULE_LOCAL, "User@Example.COM", "User@Example.COM");
    expect(&s, REWRITE_RULE_LOCAL, "john doe@example.com", "john doe@example.com");
    expect(&s, REWRITE_RULE_LOCAL, "user@remote@us.example", "user@remote@us.example");
    expect(&s, REWRITE_RULE_LOCAL, "user%remote@us.example", "user%remote@us.example");
    expect(&s, REWRITE_RULE_LOCAL, "host!user@us.example", "host!user@us.example");
}

static void test_source_routes_are_dropped(void **state)
{
    rewrite_settings s = defaults();

    expect(&s, REWRITE_RULE_LOCAL, "@a,@b:user@c", "user@c");
    expect(&s, REWRITE_RULE_LOCAL, "@a.example:user@c.example", "user@c.example");
    expect(&s, REWRITE_RULE_LOCAL, "@a:user", "user@origin.example");
    /* Not a route: nothing after the colon, empty hops, a bad separator. */
    expect(&s, REWRITE_RULE_LOCAL, "@a:", "@a:");
    expect(&s, REWRITE_RULE_LOCAL, "@:user@c", "@:user@c");
    expect(&s, REWRITE_RULE_LOCAL, "@a,b:user@c", "@a,b:user@c");
    expect(&s, REWRITE_RULE_LOCAL, "@a@b:user@c", "@a@b:user@c");
}

static void test_bang_paths(void **state)
{
    rewrite_settings s = defaults();

    expect(&s, REWRITE_RULE_LOCAL, "host!user", "user@host");
    expect(&s, REWRITE_RULE_LOCAL, "a!b!user", "b!user@a");
    expect(&s, REWRITE_RULE_LOCAL, "host!user%other", "user%other@host");
    s.swap_bangpath = 0;
    expect(&s, REWRITE_RULE_LOCAL, "host!user", "host!user@origin.example");
}

static void test_percent_hack(void **state)
{
    rewrite_settings s = defaults();

    expect(&s, REWRITE_RULE_LOCAL, "user%host", "user@host");
    expect(&s, REWRITE_RULE_LOCAL, "a%b%c", "a%b@c");
    expect(&s, REWRITE_RULE_REMOTE, "user%host", "user@host");
    s.allow_percent_hack = 0;
    expect(&s, REWRITE_RULE_LOCAL, "user%host", "user%host@origin.example");
}

static void test_append_at_myorigin(void **state)
{
    rewrite_settings s = defaults();

    expect(&s, REWRITE_RULE_LOCAL, "user", "user@origin.example");
    expect(&s, REWRITE_RULE_LOCAL, "MAILER-DAEMON", "MAILER-DAEMON@origin.example");
    /* Remote context: remote_header_rewrite_domain, here empty. */
    expect(&s, REWRITE_RULE_REMOTE, "user", "user");
    s.remote_header_rewrite_domain = "domain.invalid";
    expect(&s, REWRITE_RULE_REMOTE, "user", "user@domain.invalid");
    s.append_at_myorigin = 0;
    expect(&s, REWRITE_RULE_LOCAL, "user", "user");
    expect(&s, REWRITE_RULE_REMOTE, "user", "user");
}

static void test_append_dot_mydomain(void **state)
{
    rewrite_settings s = defaults();

    expect(&s, REWRITE_RULE_LOCAL, "user@host", "user@host");      /* off by default */
    s.append_dot_mydomain = 1;
    expect(&s, REWRITE_RULE_LOCAL, "user@host", "user@host.example.test");
    expect(&s, REWRITE_RULE_LOCAL, "user@host.sub", "user@host.sub");
    expect(&s, REWRITE_RULE_LOCAL, "user@[192.0.2.1]", "user@[192.0.2.1]");
    expect(&s, REWRITE_RULE_LOCAL, "user@", "user@");
    expect(&s, REWRITE_RULE_LOCAL, "user%host", "user@host.example.test");
    s.myorigin = "origin";
    expect(&s, REWRITE_RULE_LOCAL, "user", "user@origin.example.test");
    /* Remote context: the remote domain, or nothing when it is empty. */
    expect(&s, REWRITE_RULE_REMOTE, "user@host", "user@host");
    s.remote_header_rewrite_domain = "domain.invalid";
    expect(&s, REWRITE_RULE_REMOTE, "user@host", "user@host.domain.invalid");
}

static void test_trailing_dots(void **state)
{
    rewrite_settings s = defaults();

    expect(&s, REWRITE_RULE_LOCAL, "user@example.com.", "user@example.com");
    expect(&s, REWRITE_RULE_LOCAL, "user@example.com..", "user@example.com..");
    expect(&s, REWRITE_RULE_LOCAL, "user@.", "user@.");
    expect(&s, REWRITE_RULE_REMOTE, "user@Example.COM.", "user@Example.COM");
}

static void test_strip_route_alone(void **state)
{
    strbuf *address = strbuf_from("@relay.example:user@remote.example");

    assert_int_equal(rewrite_strip_route(address), 1);
    assert_string_equal(address->data, "user@remote.example");
    assert_int_equal(rewrite_strip_route(address), 0);
    strbuf_set(address, "user@example.com");
    assert_int_equal(rewrite_strip_route(address), 0);
    strbuf_free(address);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_names),
        cmocka_unit_test(test_empty_and_lone_at),
        cmocka_unit_test(test_complete_addresses_keep_their_case),
        cmocka_unit_test(test_source_routes_are_dropped),
        cmocka_unit_test(test_bang_paths),
        cmocka_unit_test(test_percent_hack),
        cmocka_unit_test(test_append_at_myorigin),
        cmocka_unit_test(test_append_dot_mydomain),
        cmocka_unit_test(test_trailing_dots),
        cmocka_unit_test(test_strip_route_alone),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

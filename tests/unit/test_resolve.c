/*
 * Unit tests for trivial-rewrite's resolver (src/trivial-rewrite/
 * resolve.h, transport.h, own_addr.h): address classes and their
 * transports, this machine's addresses, every relay-trick form of
 * ATTACKS.md, resolve_dequoted_address, resolve_null_domain,
 * resolve_numeric_domain, syntax errors, transport_maps search order and
 * result forms, and table failures (RESOLVE_FLAG_FAIL, never a guess).
 */
#include "unit.h"

#include "mail_params.h"
#include "../../src/trivial-rewrite/own_addr.h"
#include "../../src/trivial-rewrite/resolve.h"

#define OURS      "mx.example.test"
#define LOCAL     (RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL)
#define ROUTED    RESOLVE_FLAG_ROUTED

static resolve_settings defaults(void)
{
    return (resolve_settings) {
        .rewrite = {
            .swap_bangpath = 1,
            .allow_percent_hack = 1,
            .append_at_myorigin = 1,
            .myorigin = OURS,
            .mydomain = "example.test",
            .remote_header_rewrite_domain = "",
        },
        .resolve_dequoted_address = 1,
        .show_user_unknown_table_name = 1,
        .smtputf8_enable = 1,
        .myhostname = OURS,
        .empty_address_recipient = "MAILER-DAEMON",
        .recipient_delimiter = "+",
        .mydestination = OURS ", localhost.example.test, localhost",
        .inet_interfaces = "127.0.0.1",
        .proxy_interfaces = "198.51.100.7",
        .inet_protocols = "all",
        .virtual_alias_domains = "valias.example",
        .virtual_mailbox_domains = "vmbox.example",
        .relay_domains = "relay.example",
        .local_transport = "local:" OURS,
        .virtual_transport = "virtual",
        .relay_transport = "relay",
        .default_transport = "smtp",
        .relayhost = "",
        .transport_maps = "",
    };
}

typedef struct expected {
    int     flags;
    const char *transport;
    const char *nexthop;
    const char *recipient;
} expected;

static void expect_with(const resolve_settings *settings, const char *address,
                        expected wanted)
{
    strbuf *why = strbuf_new(16);
    resolver *r = resolver_new(settings, why);
    resolve_result *result = resolve_result_new();

    assert_non_null(r);
    resolver_resolve(r, address, result);
    if (result->flags != wanted.flags)
        fail_msg("%s: flags %#x, wanted %#x (recipient %s)", address, result->flags,
                 wanted.flags, result->recipient->data);
    assert_string_equal(result->transport->data, wanted.transport);
    assert_string_equal(result->nexthop->data, wanted.nexthop);
    assert_string_equal(result->recipient->data, wanted.recipient);
    resolve_result_free(result);
    resolver_free(r);
    strbuf_free(why);
}

static void expect(const char *address, expected wanted)
{
    resolve_settings settings = defaults();

    expect_with(&settings, address, wanted);
}

static expected remote(const char *recipient, const char *domain, int extra_flags)
{
    return (expected) {RESOLVE_CLASS_DEFAULT | extra_flags, "smtp", domain, recipient};
}

static expected local(const char *recipient, int extra_flags)
{
    return (expected) {LOCAL | extra_flags, "local", OURS, recipient};
}

/* Classes ------------------------------------------------------------------ */

static void test_local_domains(void **state)
{
    expect("user@" OURS, local("user@" OURS, 0));
    expect("User@MX.Example.TEST", local("User@MX.Example.TEST", 0));
    expect("user@localhost", local("user@localhost", 0));
    expect("user@" OURS ".", local("user@" OURS, 0));
    expect("user+ext@" OURS, local("user+ext@" OURS, 0));
    expect("john doe@" OURS, local("john doe@" OURS, 0));
}

static void test_bare_and_empty_local_parts(void **state)
{
    expect("user", local("user@" OURS, 0));
    expect("", local("MAILER-DAEMON@" OURS, 0));
    expect("@" OURS, local("MAILER-DAEMON@" OURS, 0));
}

static void test_local_transport_nexthop(void **state)
{
    resolve_settings s = defaults();

    s.local_transport = "local";
    expect_with(&s, "user@localhost", (expected) {LOCAL, "local", "localhost", "user@localhost"});
    s.local_transport = "mylocal:otherhost";
    expect_with(&s, "user@localhost",
                (expected) {LOCAL, "mylocal", "otherhost", "user@localhost"});
}

static void test_our_address_literals(void **state)
{
    resolve_settings s = defaults();

    expect("user@[127.0.0.1]", local("user@[127.0.0.1]", 0));
    expect("user@[198.51.100.7]", local("user@[198.51.100.7]", 0));      /* proxy_interfaces */
    expect("user@[192.0.2.1]", remote("user@[192.0.2.1]", "[192.0.2.1]", 0));
    expect("user@[IPv6:::1]", remote("user@[IPv6:::1]", "[IPv6:::1]", 0));
    s.inet_interfaces = "loopback-only";
    expect_with(&s, "user@[IPv6:::1]", local("user@[IPv6:::1]", 0));
    expect_with(&s, "user@[ipv6:0::1]", local("user@[ipv6:0::1]", 0));
}

static void test_remote_and_relayhost(void **state)
{
    resolve_settings s = defaults();

    expect("user@remote.example", remote("user@remote.example", "remote.example", 0));
    expect("User@Remote.Example", remote("User@Remote.Example", "Remote.Example", 0));
    s.relayhost = "[gateway.example]:2525";
    expect_with(&s, "user@remote.example",
                remote("user@remote.example", "[gateway.example]:2525", 0));
    expect_with(&s, "user@" OURS, local("user@" OURS, 0));
    s.default_transport = "smtp:[fixed.example]";
    expect_with(&s, "user@remote.example",
                remote("user@remote.example", "[fixed.example]", 0));
}

static void test_relay_domains(void **state)
{
    resolve_settings s = defaults();

    expect("user@relay.example",
           (expected) {RESOLVE_CLASS_RELAY, "relay", "relay.example", "user@relay.example"});
    /* relay_domains matches subdomains (parent_domain_matches_subdomains). */
    expect("user@sub.relay.example", (expected) {RESOLVE_CLASS_RELAY, "relay",
           "sub.relay.example", "user@sub.relay.example"});
    s.relayhost = "[gw.example]";
    expect_with(&s, "user@relay.example",
                (expected) {RESOLVE_CLASS_RELAY, "relay", "[gw.example]", "user@relay.example"});
}

static void test_virtual_alias_domains(void **state)
{
    resolve_settings s = defaults();
    const int alias = RESOLVE_CLASS_ALIAS | RESOLVE_FLAG_FINAL;

    expect("user@valias.example", (expected) {alias, "error",
           "5.1.1 User unknown in virtual alias table", "user@valias.example"});
    s.show_user_unknown_table_name = 0;
    expect_with(&s, "user@valias.example",
                (expected) {alias, "error", "5.1.1 User unknown", "user@valias.example"});
    /* Listed in mydestination too: local wins. */
    s.virtual_alias_domains = "valias.example, localhost";
    expect_with(&s, "user@localhost", local("user@localhost", 0));
    /* A table, as with the default $virtual_alias_maps. */
    s.virtual_alias_domains = "inline:{ tabled.example=whatever }";
    expect_with(&s, "user@tabled.example",
                (expected) {alias, "error", "5.1.1 User unknown", "user@tabled.example"});
}

static void test_virtual_mailbox_domains(void **state)
{
    resolve_settings s = defaults();
    const int virtual = RESOLVE_CLASS_VIRTUAL | RESOLVE_FLAG_FINAL;

    expect("user@vmbox.example",
           (expected) {virtual, "virtual", "vmbox.example", "user@vmbox.example"});
    s.virtual_transport = "lmtp:unix:private/dovecot-lmtp";
    expect_with(&s, "user@vmbox.example", (expected) {virtual, "lmtp",
                "unix:private/dovecot-lmtp", "user@vmbox.example"});
    s.relayhost = "[gw.example]";                /* not for final destinations */
    expect_with(&s, "user@vmbox.example", (expected) {virtual, "lmtp",
                "unix:private/dovecot-lmtp", "user@vmbox.example"});
}

/* Relay tricks (ATTACKS.md, "open relay") ----------------------------------- */

static void test_percent_hack_relay_attempt(void **state)
{
    resolve_settings s = defaults();

    expect("user%remote.example@" OURS, remote("user@remote.example", "remote.example", ROUTED));
    expect("user%remote.example", remote("user@remote.example", "remote.example", ROUTED));
    expect("user%remote.example%localhost@" OURS,
           remote("user@remote.example", "remote.example", ROUTED));
    /* Routed back to us: still local, still flagged. */
    expect("user%localhost@" OURS, local("user@localhost", ROUTED));
    s.rewrite.allow_percent_hack = 0;
    expect_with(&s, "user%remote.example@" OURS, local("user%remote.example@" OURS, 0));
}

static void test_quoted_at_relay_attempt(void **state)
{
    resolve_settings s = defaults();

    /* "user@remote.example"@us has this internal form. */
    expect("user@remote.example@" OURS, remote("user@remote.example", "remote.example", ROUTED));
    expect("user@localhost@" OURS, local("user@localhost", ROUTED));
    s.resolve_dequoted_address = 0;
    expect_with(&s, "user@remote.example@" OURS, local("user@remote.example@" OURS, 0));
}

static void test_source_route_relay_attempt(void **state)
{
    expect("@" OURS ":user@remote.example",
           remote("user@remote.example", "remote.example", ROUTED));
    expect("@" OURS ",@localhost:user@" OURS, local("user@" OURS, ROUTED));
}

static void test_bang_path_relay_attempt(void **state)
{
    resolve_settings s = defaults();

    expect("remote.example!user@" OURS, remote("user@remote.example", "remote.example", ROUTED));
    expect("remote.example!user", remote("user@remote.example", "remote.example", ROUTED));
    expect("localhost!user@" OURS, local("user@localhost", ROUTED));
    s.rewrite.swap_bangpath = 0;
    expect_with(&s, "remote.example!user@" OURS, local("remote.example!user@" OURS, 0));
}

static void test_foreign_address_literal(void **state)
{
    expected wanted = remote("user@[192.0.2.1]", "[192.0.2.1]", 0);

    expect("user@[192.0.2.1]", wanted);
    assert_false(wanted.flags & RESOLVE_FLAG_FINAL);
}

static void test_too_many_routing_steps(void **state)
{
    strbuf *address = strbuf_from("user");

    for (int i = 0; i < RESOLVE_ROUTING_MAX + 5; i++)
        strbuf_append_str(address, "%localhost");
    strbuf_append_str(address, "@" OURS);
    expect(address->data, (expected) {RESOLVE_FLAG_ERROR, "", "", address->data});
    strbuf_free(address);
}

/* Optional forms ------------------------------------------------------------ */

static void test_null_domain(void **state)
{
    resolve_settings s = defaults();

    expect("user@", (expected) {LOCAL | RESOLVE_FLAG_ERROR, "local", OURS, "user@"});
    s.resolve_null_domain = 1;
    expect_with(&s, "user@", local("user@" OURS, 0));
    expect_with(&s, "user%remote.example@", remote("user@remote.example", "remote.example",
                                                   ROUTED));
}

static void test_numeric_domain(void **state)
{
    resolve_settings s = defaults();

    expect("user@192.0.2.1", remote("user@192.0.2.1", "192.0.2.1", RESOLVE_FLAG_ERROR));
    s.resolve_numeric_domain = 1;
    expect_with(&s, "user@192.0.2.1", remote("user@[192.0.2.1]", "[192.0.2.1]", 0));
    expect_with(&s, "user@192.0.2.1.", remote("user@[192.0.2.1]", "[192.0.2.1]", 0));
    expect_with(&s, "user@127.0.0.1", local("user@[127.0.0.1]", 0));
    expect_with(&s, "user@2001:db8::1",
                remote("user@[IPv6:2001:db8::1]", "[IPv6:2001:db8::1]", 0));
}

static void test_syntax_errors(void **state)
{
    const int bad = RESOLVE_FLAG_ERROR;
    resolve_settings s = defaults();

    expect("user@bad..example", remote("user@bad..example", "bad..example", bad));
    expect("user@-bad.example", remote("user@-bad.example", "-bad.example", bad));
    expect("user@exa mple.com", remote("user@exa mple.com", "exa mple.com", bad));
    expect("user@[300.1.1.1]", remote("user@[300.1.1.1]", "[300.1.1.1]", bad));
    expect("user@[tag:text]", remote("user@[tag:text]", "[tag:text]", bad));
    expect("user@under_score.example",
           remote("user@under_score.example", "under_score.example", 0));
    expect("j\xc3\xb6rg@b\xc3\xbc" "cher.example",
           remote("j\xc3\xb6rg@b\xc3\xbc" "cher.example", "b\xc3\xbc" "cher.example", 0));
    expect("j\xc3rg@example.com", remote("j\xc3rg@example.com", "example.com", bad));
    s.smtputf8_enable = 0;
    expect_with(&s, "user@b\xc3\xbc" "cher.example",
                remote("user@b\xc3\xbc" "cher.example", "b\xc3\xbc" "cher.example", bad));
}

static void test_overlong_address(void **state)
{
    strbuf *address = strbuf_new(RESOLVE_ADDRESS_MAX + 32);

    while (address->len <= RESOLVE_ADDRESS_MAX)
        strbuf_append_char(address, 'a');
    strbuf_append_str(address, "@remote.example");
    expect(address->data, (expected) {RESOLVE_FLAG_ERROR, "", "", address->data});
    strbuf_free(address);
}

/* transport_maps ------------------------------------------------------------ */

static expected with_maps(const char *maps, const char *address)
{
    resolve_settings s = defaults();
    strbuf *why = strbuf_new(16);
    resolver *r;
    resolve_result *result = resolve_result_new();
    static char transport[64], nexthop[128];
    expected got;

    s.transport_maps = maps;
    r = resolver_new(&s, why);
    resolver_resolve(r, address, result);
    snprintf(transport, sizeof(transport), "%s", result->transport->data);
    snprintf(nexthop, sizeof(nexthop), "%s", result->nexthop->data);
    got = (expected) {result->flags, transport, nexthop, NULL};
    resolve_result_free(result);
    resolver_free(r);
    strbuf_free(why);
    return got;
}

static void expect_route(const char *maps, const char *address, const char *transport,
                         const char *nexthop)
{
    expected got = with_maps(maps, address);

    assert_false(got.flags & (RESOLVE_FLAG_FAIL | RESOLVE_FLAG_ERROR));
    assert_string_equal(got.transport, transport);
    assert_string_equal(got.nexthop, nexthop);
}

static void test_transport_search_order(void **state)
{
    const char *all = "inline:{ user+ext@remote.example=full:a, user@remote.example=noext:b, "
        "remote.example=domain:c, .remote.example=parent:d, *=wild:e }";

    expect_route(all, "user+ext@remote.example", "full", "a");
    expect_route(all, "user+other@remote.example", "noext", "b");
    expect_route(all, "user@remote.example", "noext", "b");
    expect_route(all, "someone@remote.example", "domain", "c");
    expect_route(all, "someone@deep.sub.remote.example", "parent", "d");
    expect_route(all, "someone@elsewhere.example", "wild", "e");
    expect_route(all, "USER@Remote.Example", "noext", "b");     /* keys fold */
    expect_route("inline:{ .example=parent:x }", "a@example", "smtp", "example");
}

static void test_transport_parent_style(void **state)
{
    char   *saved = var_parent_domain_matches_subdomains;

    var_parent_domain_matches_subdomains = "transport_maps";
    expect_route("inline:{ remote.example=parent:x }", "a@sub.remote.example", "parent", "x");
    var_parent_domain_matches_subdomains = saved;
    expect_route("inline:{ remote.example=parent:x }", "a@sub.remote.example", "smtp",
                 "sub.remote.example");
}

static void test_transport_tables_in_order(void **state)
{
    expect_route("inline:{ x=y }, inline:{ remote.example=second: }, "
                 "inline:{ remote.example=third: }", "a@remote.example", "second",
                 "remote.example");
}

static void test_pattern_tables_see_the_full_address_only(void **state)
{
    expect_route("regexp:{ {/^remote\\.example$/ wrong:x} }", "a@remote.example", "smtp",
                 "remote.example");
    expect_route("regexp:{ {/^a@remote\\.example$/ right:y} }", "a@remote.example", "right",
                 "y");
    expect_route("regexp:{ {/^a\\+x@/ right:z} }", "a+x@remote.example", "right", "z");
}

static void test_transport_result_forms(void **state)
{
    const char *address = "user@remote.example";

    expect_route("inline:{ remote.example=smtp:[mail.example]:2525 }", address, "smtp",
                 "[mail.example]:2525");
    expect_route("inline:{ remote.example=:[gw.example] }", address, "smtp", "[gw.example]");
    expect_route("inline:{ remote.example=slow: }", address, "slow", "remote.example");
    expect_route("inline:{ remote.example=slow }", address, "slow", "remote.example");
    expect_route("inline:{ remote.example=: }", address, "smtp", "remote.example");
    expect_route("inline:{ { remote.example = error:mail for remote is not deliverable } }",
                 address, "error", "mail for remote is not deliverable");
    expect_route("inline:{ remote.example=error: }", address, "error",
                 "Address is undeliverable");
    expect_route("inline:{ remote.example=retry }", address, "retry",
                 "Address is undeliverable");
    expect_route("inline:{ { remote.example = smtp:a.example, b.example } }", address, "smtp",
                 "a.example, b.example");
}

static void test_transport_maps_and_classes(void **state)
{
    expected got;

    /* Local mail may be routed elsewhere; its class stays. */
    got = with_maps("inline:{ " OURS "=lmtp:[store.example] }", "user@" OURS);
    assert_int_equal(got.flags, LOCAL);
    assert_string_equal(got.transport, "lmtp");
    assert_string_equal(got.nexthop, "[store.example]");
    /* The virtual alias class is never overridden. */
    got = with_maps("inline:{ *=smtp:[gw.example] }", "user@valias.example");
    assert_string_equal(got.transport, "error");
    /* The null address is looked up as MAILER-DAEMON@$myhostname. */
    got = with_maps("inline:{ MAILER-DAEMON@" OURS "=bounces: }", "");
    assert_string_equal(got.transport, "bounces");
    assert_string_equal(got.nexthop, OURS);
}

/* Failures ------------------------------------------------------------------ */

static void expect_fail(resolve_settings *settings, const char *address)
{
    expect_with(settings, address, (expected) {RESOLVE_FLAG_FAIL, "", "", address});
}

static void test_table_failures_fail(void **state)
{
    resolve_settings s = defaults();

    s.transport_maps = "fail:transport";
    expect_fail(&s, "user@remote.example");
    expect_fail(&s, "user@" OURS);
    s.transport_maps = "inline:{ a=b }, hash:/nonexistent/transport";
    expect_fail(&s, "user@remote.example");
    s = defaults();
    s.mydestination = "fail:mydestination";
    expect_fail(&s, "user@remote.example");
    expect_fail(&s, "user%remote.example");
    s = defaults();
    s.virtual_alias_domains = "fail:aliases";
    expect_fail(&s, "user@remote.example");
    expect_with(&s, "user@" OURS, local("user@" OURS, 0));        /* not asked */
    s = defaults();
    s.virtual_mailbox_domains = "regexp:/nonexistent/file";
    expect_fail(&s, "user@remote.example");
    s = defaults();
    s.relay_domains = "fail:relay";
    expect_fail(&s, "user@remote.example");
    expect_with(&s, "user@vmbox.example", (expected) {RESOLVE_CLASS_VIRTUAL
                | RESOLVE_FLAG_FINAL, "virtual", "vmbox.example", "user@vmbox.example"});
}

static void test_null_transport_fails(void **state)
{
    resolve_settings s = defaults();

    s.default_transport = ":[gw.example]";
    expect_fail(&s, "user@remote.example");
    s = defaults();
    s.local_transport = "";
    expect_fail(&s, "user@" OURS);
}

/* This machine's addresses -------------------------------------------------- */

static void test_own_addresses(void **state)
{
    strbuf *why = strbuf_new(16);
    own_addr *own = own_addr_new("loopback-only", "[192.0.2.9], 203.0.113.1", "ipv4", why);

    assert_non_null(own);
    assert_true(own_addr_match(own, "[127.0.0.1]"));
    assert_true(own_addr_match(own, "[192.0.2.9]"));
    assert_true(own_addr_match(own, "[203.0.113.1]"));
    assert_false(own_addr_match(own, "[IPv6:::1]"));                    /* ipv4 only */
    assert_false(own_addr_match(own, "[127.0.0.2]"));
    assert_false(own_addr_match(own, "127.0.0.1"));
    assert_false(own_addr_match(own, "[127.0.0.1"));
    assert_false(own_addr_match(own, "[localhost]"));
    own_addr_free(own);
    own = own_addr_new("all", "", "all", why);
    assert_non_null(own);
    assert_true(own_addr_count(own) >= 1);
    assert_true(own_addr_match(own, "[127.0.0.1]"));
    own_addr_free(own);
    assert_null(own_addr_new("127.0.0.1", "", "ipv5", why));
    assert_string_equal(why->data, "bad inet_protocols value \"ipv5\"");
    assert_null(own_addr_new("127.0.0.1", "no-such-host.invalid", "all", why));
    assert_string_equal(why->data, "proxy_interfaces: host not found: no-such-host.invalid");
    strbuf_free(why);
}

static void test_resolver_needs_own_addresses(void **state)
{
    resolve_settings s = defaults();
    strbuf *why = strbuf_new(16);

    s.inet_protocols = "bogus";
    assert_null(resolver_new(&s, why));
    assert_string_equal(why->data, "bad inet_protocols value \"bogus\"");
    strbuf_free(why);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_domains),
        cmocka_unit_test(test_bare_and_empty_local_parts),
        cmocka_unit_test(test_local_transport_nexthop),
        cmocka_unit_test(test_our_address_literals),
        cmocka_unit_test(test_remote_and_relayhost),
        cmocka_unit_test(test_relay_domains),
        cmocka_unit_test(test_virtual_alias_domains),
        cmocka_unit_test(test_virtual_mailbox_domains),
        cmocka_unit_test(test_percent_hack_relay_attempt),
        cmocka_unit_test(test_quoted_at_relay_attempt),
        cmocka_unit_test(test_source_route_relay_attempt),
        cmocka_unit_test(test_bang_path_relay_attempt),
        cmocka_unit_test(test_foreign_address_literal),
        cmocka_unit_test(test_too_many_routing_steps),
        cmocka_unit_test(test_null_domain),
        cmocka_unit_test(test_numeric_domain),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_overlong_address),
        cmocka_unit_test(test_transport_search_order),
        cmocka_unit_test(test_transport_parent_style),
        cmocka_unit_test(test_transport_tables_in_order),
        cmocka_unit_test(test_pattern_tables_see_the_full_address_only),
        cmocka_unit_test(test_transport_result_forms),
        cmocka_unit_test(test_transport_maps_and_classes),
        cmocka_unit_test(test_table_failures_fail),
        cmocka_unit_test(test_null_transport_fails),
        cmocka_unit_test(test_own_addresses),
        cmocka_unit_test(test_resolver_needs_own_addresses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

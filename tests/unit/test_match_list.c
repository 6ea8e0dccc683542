/*
 * Unit tests for match lists (match_list.h): string, domain, host and
 * address lists; negation, /file/name, type:table, IPv4 and IPv6
 * networks, parent_domain_matches_subdomains, and bad patterns.
 */
#include "unit.h"

#include "match_list.h"

static void test_string_list(void **state)
{
    match_list *list = string_list_new("authorized_submit_users",
                                       "!mallory, Alice bob,inline:{ carol=x }");

    assert_int_equal(string_list_match(list, "alice"), 1);
    assert_int_equal(string_list_match(list, "BOB"), 1);
    assert_int_equal(string_list_match(list, "carol"), 1);
    assert_int_equal(string_list_match(list, "mallory"), 0);
    assert_int_equal(string_list_match(list, "dave"), 0);
    match_list_free(list);
}

static void test_domain_list_parent_styles(void **state)
{
    match_list *relay = domain_list_new("relay_domains", "example.com, .example.org");
    match_list *other = domain_list_new("not_a_pdms_name", "example.com, .example.org");

    assert_int_equal(parent_matches_subdomains("relay_domains"), 1);
    assert_int_equal(parent_matches_subdomains("mydestination"), 0);
    assert_int_equal(domain_list_match(relay, "example.com"), 1);
    assert_int_equal(domain_list_match(relay, "Mail.Example.COM"), 1);
    assert_int_equal(domain_list_match(relay, "badexample.com"), 0);
    assert_int_equal(domain_list_match(relay, "sub.example.org"), 1);
    assert_int_equal(domain_list_match(relay, "example.org"), 0);
    assert_int_equal(domain_list_match(other, "example.com"), 1);
    assert_int_equal(domain_list_match(other, "mail.example.com"), 0);
    assert_int_equal(domain_list_match(other, "sub.example.org"), 1);
    match_list_free(relay);
    match_list_free(other);
}

static void test_domain_list_tables_and_negation(void **state)
{
    match_list *list = domain_list_new("relay_domains",
                                       "!secret.example.com, inline:{ example.com=x }, "
                                       "regexp:{ {/^pattern\\./ x} }");

    assert_int_equal(domain_list_match(list, "example.com"), 1);
    assert_int_equal(domain_list_match(list, "a.b.example.com"), 1);     /* parent lookup */
    assert_int_equal(domain_list_match(list, "secret.example.com"), 0);
    assert_int_equal(domain_list_match(list, "pattern.net"), 1);
    assert_int_equal(domain_list_match(list, "x.pattern.net"), 0);      /* no parents */
    match_list_free(list);
}

static void test_file_entries(void **state)
{
    char    patterns[600];
    const char *inner = unit_temp_file("inner.list", "deep.example\n");
    char    inner_path[512];
    match_list *list;

    snprintf(inner_path, sizeof(inner_path), "%s", inner);
    snprintf(patterns, sizeof(patterns), "first.example %s", unit_temp_file("domains.list",
             "# comment\none.example, two.example\n  three.example\n"));
    list = domain_list_new("mydestination", patterns);
    assert_int_equal(domain_list_match(list, "two.example"), 1);
    assert_int_equal(domain_list_match(list, "three.example"), 1);
    assert_int_equal(domain_list_match(list, "comment"), 0);
    match_list_free(list);
    snprintf(patterns, sizeof(patterns), "%s", unit_temp_file("nested.list", inner_path));
    list = domain_list_new("mydestination", patterns);
    assert_int_equal(domain_list_match(list, "deep.example"), 1);
    match_list_free(list);
}

static void test_host_list(void **state)
{
    match_list *list = host_list_new("debug_peer_list",
                                     "192.0.2.1, 10.0.0.0/8, [2001:db8::1], [2001:db9::]/32, "
                                     "::1, trusted.example, !10.9.0.0/16");

    assert_int_equal(host_list_match(list, "unknown", "192.0.2.1"), 1);
    assert_int_equal(host_list_match(list, "unknown", "192.0.2.2"), 0);
    assert_int_equal(host_list_match(list, "unknown", "10.9.1.1"), 1);   /* first match wins */
    assert_int_equal(host_list_match(list, "unknown", "2001:db8::1"), 1);
    assert_int_equal(host_list_match(list, "unknown", "2001:DB9:1::2"), 1);
    assert_int_equal(host_list_match(list, "unknown", "::1"), 1);
    assert_int_equal(host_list_match(list, "mx.trusted.example", "203.0.113.1"), 1);
    assert_int_equal(host_list_match(list, "trusted.example.evil", "203.0.113.1"), 0);
    match_list_free(list);
}

static void test_address_list_with_tables(void **state)
{
    const char *cidr = unit_temp_file("networks.cidr", "172.16.0.0/12 ok\n");
    char    patterns[600];
    match_list *list;

    snprintf(patterns, sizeof(patterns), "127.0.0.0/8 [::1]/128 cidr:%s "
             "inline:{ 198.51.100.7=x }", cidr);
    list = addr_list_new("mynetworks", patterns);
    assert_int_equal(addr_list_match(list, "127.0.0.1"), 1);
    assert_int_equal(addr_list_match(list, "::1"), 1);
    assert_int_equal(addr_list_match(list, "::2"), 0);
    assert_int_equal(addr_list_match(list, "172.20.1.1"), 1);
    assert_int_equal(addr_list_match(list, "198.51.100.7"), 1);
    assert_int_equal(addr_list_match(list, "8.8.8.8"), 0);
    assert_int_equal(addr_list_match(list, "not-an-address"), 0);
    match_list_free(list);
}

static void assert_bad_list(match_list *list, const char *reason)
{
    assert_int_equal(addr_list_match(list, "127.0.0.1"), MATCH_LIST_ERROR);
    assert_non_null(strstr(match_list_error(list), reason));
    match_list_free(list);
}

static void test_bad_patterns_make_every_answer_an_error(void **state)
{
    assert_bad_list(addr_list_new("mynetworks", "127.0.0.0/8 1.2.3.4/24"),
                    "non-null host address bits");
    assert_bad_list(addr_list_new("mynetworks", "127.0.0.0/8 [::1/128"),
                    "bad address pattern");
    assert_bad_list(addr_list_new("mynetworks", "127.0.0.0/8 10.0.0.0/40"),
                    "bad mask length");
    assert_bad_list(addr_list_new("mynetworks", "127.0.0.0/8 hostname.example"),
                    "not an address, network or table");
    assert_bad_list(addr_list_new("mynetworks", "127.0.0.0/8 /nonexistent/list"),
                    "open /nonexistent/list");
    assert_bad_list(addr_list_new("mynetworks", "127.0.0.0/8 hash:/nonexistent/table"),
                    "/nonexistent/table.db");
    assert_bad_list(addr_list_new("mynetworks", "127.0.0.0/8 !"), "missing pattern");
}

static void test_table_failure_is_an_error(void **state)
{
    match_list *list = domain_list_new("relay_domains", "fail:down, example.com");

    assert_int_equal(domain_list_match(list, "example.com"), MATCH_LIST_ERROR);
    assert_non_null(strstr(match_list_error(list), "fail:down"));
    match_list_free(list);
}

static void test_files_cannot_loop(void **state)
{
    char    self[512];
    match_list *list;

    snprintf(self, sizeof(self), "%s/loop.list", unit_temp_dir());
    unit_temp_file("loop.list", self);
    list = domain_list_new("mydestination", self);
    assert_int_equal(domain_list_match(list, "x"), MATCH_LIST_ERROR);
    assert_non_null(strstr(match_list_error(list), "nested too deeply"));
    match_list_free(list);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_list),
        cmocka_unit_test(test_domain_list_parent_styles),
        cmocka_unit_test(test_domain_list_tables_and_negation),
        cmocka_unit_test(test_file_entries),
        cmocka_unit_test(test_host_list),
        cmocka_unit_test(test_address_list_with_tables),
        cmocka_unit_test(test_bad_patterns_make_every_answer_an_error),
        cmocka_unit_test(test_table_failure_is_an_error),
        cmocka_unit_test(test_files_cannot_loop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

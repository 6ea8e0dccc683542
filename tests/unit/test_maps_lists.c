/*
 * Unit tests for table lists (maps.h) and the address search order
 * (addr_find.h): order of tables and of keys, fixed versus pattern tables,
 * errors distinct from "not found", extensions, parent domains.
 */
#include "unit.h"

#include "addr_find.h"
#include "maps.h"
#include "mem.h"

static void test_tables_are_searched_in_order(void **state)
{
    maps_t *maps = maps_open("test_maps",
                             "inline:{a=first}, inline:{ a=second, b=two } "
                             "regexp:{ {/^c/ pattern} }", MAP_FLAG_FOLD);
    const char *value;

    assert_int_equal(maps_count(maps), 3);
    assert_int_equal(maps_find(maps, "A", 0, &value), MAP_OK);
    assert_string_equal(value, "first");
    assert_int_equal(maps_find(maps, "b", 0, &value), MAP_OK);
    assert_string_equal(value, "two");
    assert_int_equal(maps_find(maps, "cat", 0, &value), MAP_OK);
    assert_string_equal(value, "pattern");
    assert_int_equal(maps_find(maps, "cat", MAP_FLAG_FIXED, &value), MAP_NOTFOUND);
    assert_int_equal(maps_find(maps, "a", MAP_FLAG_PATTERN, &value), MAP_NOTFOUND);
    assert_int_equal(maps_find(maps, "zzz", 0, &value), MAP_NOTFOUND);
    assert_null(value);
    assert_int_equal(maps_find(maps, "", 0, &value), MAP_NOTFOUND);
    maps_free(maps);
}

static void test_an_error_stops_the_search(void **state)
{
    maps_t *maps = maps_open("test_maps", "inline:{a=1}, fail:broken, inline:{b=2}",
                             MAP_FLAG_FOLD);
    const char *value;

    assert_int_equal(maps_find(maps, "a", 0, &value), MAP_OK);
    assert_int_equal(maps_find(maps, "b", 0, &value), MAP_ERROR);
    assert_non_null(strstr(maps_error(maps), "fail:broken lookup error for \"b\""));
    maps_free(maps);
}

static void test_unopenable_tables_fail_lookups(void **state)
{
    maps_t *maps = maps_open("test_maps", "inline:{a=1} hash:/nonexistent/table",
                             MAP_FLAG_FOLD);
    const char *value;

    assert_int_equal(maps_find(maps, "a", 0, &value), MAP_OK);
    assert_int_equal(maps_find(maps, "other", 0, &value), MAP_ERROR);
    assert_non_null(strstr(maps_error(maps), "/nonexistent/table.db"));
    maps_free(maps);
    maps = maps_open("test_maps", "inline:{a=1", MAP_FLAG_FOLD);
    assert_int_equal(maps_find(maps, "a", 0, &value), MAP_ERROR);
    assert_non_null(strstr(maps_error(maps), "unbalanced"));
    maps_free(maps);
    maps = maps_open("test_maps", "", MAP_FLAG_FOLD);
    assert_int_equal(maps_find(maps, "a", 0, &value), MAP_NOTFOUND);
    maps_free(maps);
}

/* Every key of the virtual(5) order, each in its own table entry. */
static const char *virtual_table =
    "inline:{ user+ext@example.com=full, user@example.com=noext, user+ext=local-ext, "
    "user=local, @example.com=catchall }";

static int find(maps_t *maps, const char *address, const addr_find_opts *opts,
                const char **value, strbuf *extension)
{
    return addr_find(maps, address, opts, value, extension);
}

/* Drops the entry that answered, to see the next key in the order. */
static const char *next_in_order(const char *address, int strategy, int local,
                                 const char *table, strbuf *extension)
{
    static char answer[64];
    addr_find_opts opts = {.strategy = strategy, .domain_is_local = local, .delimiters = "+"};
    maps_t *maps = maps_open("test", table, MAP_FLAG_FOLD);
    const char *value;

    if (find(maps, address, &opts, &value, extension) != MAP_OK)
        snprintf(answer, sizeof(answer), "(none)");
    else
        snprintf(answer, sizeof(answer), "%s", value);
    maps_free(maps);
    return answer;
}

static void test_virtual_search_order(void **state)
{
    strbuf *ext = strbuf_new(16);
    strbuf *table = strbuf_from(virtual_table);
    const char *expected[] = {"full", "noext", "local-ext", "local", "catchall", "(none)"};
    const char *entries[] = {"user+ext@example.com=full, ", "user@example.com=noext, ",
        "user+ext=local-ext, ", "user=local, ", "@example.com=catchall "};

    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(next_in_order("User+Ext@Example.COM", ADDR_FIND_VIRTUAL, 1,
                                          table->data, ext), expected[i]);
        assert_string_equal(ext->data, i == 1 || i == 3 ? "+Ext" : "");
        if (i < 5) {                            /* remove the entry that answered */
            char   *at = strstr(table->data, entries[i]);
            size_t  len = strlen(entries[i]);

            memmove(at, at + len, strlen(at + len) + 1);
            table->len -= len;
        }
    }
    strbuf_free(table);
    strbuf_free(ext);
}

static void test_bare_user_only_for_local_domains(void **state)
{
    const char *table = "inline:{ user=local, @example.com=catchall }";

    assert_string_equal(next_in_order("user@example.com", ADDR_FIND_VIRTUAL, 1, table, NULL),
                        "local");
    assert_string_equal(next_in_order("user@example.com", ADDR_FIND_VIRTUAL, 0, table, NULL),
                        "catchall");
}

static void test_access_search_order(void **state)
{
    strbuf *ext = strbuf_new(16);

    assert_string_equal(next_in_order("u+x@a.example.com", ADDR_FIND_ACCESS, 0,
                                      "inline:{ u@a.example.com=noext, a.example.com=dom, "
                                      "u+x@=userext }", ext), "noext");
    assert_string_equal(ext->data, "+x");
    assert_string_equal(next_in_order("u+x@a.example.com", ADDR_FIND_ACCESS, 0,
                                      "inline:{ example.com=parent, u+x@=userext }", ext),
                        "userext");             /* no parent_style_param: dot form only */
    assert_string_equal(next_in_order("u+x@a.example.com", ADDR_FIND_ACCESS, 0,
                                      "inline:{ .example.com=dotparent, u@=user }", ext),
                        "dotparent");
    assert_string_equal(next_in_order("u+x@a.example.com", ADDR_FIND_ACCESS, 0,
                                      "inline:{ u@=user }", ext), "user");
    assert_string_equal(ext->data, "+x");
    strbuf_free(ext);
}

static void test_parent_domains_follow_the_parameter(void **state)
{
    addr_find_opts opts = {.strategy = ADDR_FIND_ACCESS, .delimiters = "+"};
    maps_t *maps = maps_open("test", "inline:{ example.com=parent }", MAP_FLAG_FOLD);
    const char *value;

    opts.parent_style_param = "smtpd_access_maps";  /* listed by default */
    assert_int_equal(addr_find(maps, "u@mx.example.com", &opts, &value, NULL), MAP_OK);
    assert_string_equal(value, "parent");
    opts.parent_style_param = "sender_access_not_listed";
    assert_int_equal(addr_find(maps, "u@mx.example.com", &opts, &value, NULL), MAP_NOTFOUND);
    maps_free(maps);
}

static void test_patterns_see_only_the_full_address(void **state)
{
    addr_find_opts opts = {.strategy = ADDR_FIND_VIRTUAL, .domain_is_local = 1,
    .delimiters = "+"};
    maps_t *maps = maps_open("test", "regexp:{ {/^user$/ bare}, {/^@/ at} }", 0);
    const char *value;

    assert_int_equal(addr_find(maps, "user@example.com", &opts, &value, NULL), MAP_NOTFOUND);
    assert_int_equal(addr_find(maps, "user", &opts, &value, NULL), MAP_OK);
    maps_free(maps);
}

static void test_extension_rules(void **state)
{
    size_t  len;

    assert_int_equal(addr_split_extension("user+foo", "+", &len), 1);
    assert_int_equal(len, 4);
    assert_int_equal(addr_split_extension("user-foo+bar", "+-", &len), 1);
    assert_int_equal(len, 4);
    assert_int_equal(addr_split_extension("+foo", "+", &len), 0);
    assert_int_equal(addr_split_extension("user+", "+", &len), 1);
    assert_int_equal(addr_split_extension("user", "+", &len), 0);
    assert_int_equal(addr_split_extension("user+foo", "", &len), 0);
    assert_int_equal(addr_split_extension("user+foo", NULL, &len), 0);
    assert_int_equal(addr_split_extension("Postmaster", "+", &len), 0);
    assert_int_equal(addr_split_extension("MAILER-DAEMON", "-", &len), 0);
    assert_int_equal(addr_split_extension("owner-list", "-", &len), 0);
    assert_int_equal(addr_split_extension("list-request", "-", &len), 0);
    assert_int_equal(addr_split_extension("list-request", "+", &len), 0);
    assert_int_equal(addr_split_extension("list-x", "-", &len), 1);
}

static void test_errors_are_not_misses(void **state)
{
    addr_find_opts opts = {.strategy = ADDR_FIND_VIRTUAL, .domain_is_local = 1};
    maps_t *maps = maps_open("test", "inline:{ user@example.com=found }, fail:down",
                             MAP_FLAG_FOLD);
    const char *value;

    assert_int_equal(addr_find(maps, "user@example.com", &opts, &value, NULL), MAP_OK);
    assert_int_equal(addr_find(maps, "other@example.com", &opts, &value, NULL), MAP_ERROR);
    assert_null(value);
    maps_free(maps);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_are_searched_in_order),
        cmocka_unit_test(test_an_error_stops_the_search),
        cmocka_unit_test(test_unopenable_tables_fail_lookups),
        cmocka_unit_test(test_virtual_search_order),
        cmocka_unit_test(test_bare_user_only_for_local_domains),
        cmocka_unit_test(test_access_search_order),
        cmocka_unit_test(test_parent_domains_follow_the_parameter),
        cmocka_unit_test(test_patterns_see_only_the_full_address),
        cmocka_unit_test(test_extension_rules),
        cmocka_unit_test(test_errors_are_not_misses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

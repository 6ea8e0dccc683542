/* Unit tests for main_cf_edit: postconf -e/-X/-# keep comments and order. */
#include "unit.h"

#include "config.h"
#include "main_cf_edit.h"
#include "strbuf.h"

static const char original[] =
    "# top comment\n"
    "myhostname = a.example\n"
    "# middle comment\n"
    "relayhost = x\n"
    "    y\n"
    "mydomain = d\n"
    "relayhost = dup\n"
    "# end\n";

static void test_set_replaces_every_entry_and_appends(void **state)
{
    char   *names[] = {"relayhost", "mynetworks"};
    char   *values[] = {"[new]:25", "10.0.0.0/8"};
    strbuf *out = strbuf_new(64);

    main_cf_edit_text(original, MAIN_CF_SET, names, values, 2, out);
    assert_string_equal(out->data,
                        "# top comment\n"
                        "myhostname = a.example\n"
                        "# middle comment\n"
                        "relayhost = [new]:25\n"
                        "mydomain = d\n"
                        "relayhost = [new]:25\n"
                        "# end\n"
                        "mynetworks = 10.0.0.0/8\n");
    strbuf_free(out);
}

static void test_round_trip_through_the_reader(void **state)
{
    char   *names[] = {"myhostname"};
    char   *values[] = {"b.example"};
    strbuf *out = strbuf_new(64);
    strbuf *error = strbuf_new(64);
    conf_file *cf;

    main_cf_edit_text(original, MAIN_CF_SET, names, values, 1, out);
    cf = conf_file_parse("main.cf", out->data, error);
    assert_non_null(cf);
    assert_string_equal(conf_file_find(cf, "myhostname")->value, "b.example");
    assert_string_equal(conf_file_find(cf, "mydomain")->value, "d");
    assert_string_equal(conf_file_find(cf, "relayhost")->value, "dup");
    assert_non_null(strstr(out->data, "# top comment\n"));
    assert_non_null(strstr(out->data, "# middle comment\n"));
    assert_non_null(strstr(out->data, "relayhost = x\n    y\n"));   /* untouched */
    conf_file_free(cf);
    strbuf_free(out);
    strbuf_free(error);
}

static void test_remove_and_comment(void **state)
{
    char   *names[] = {"relayhost"};
    strbuf *out = strbuf_new(64);

    main_cf_edit_text(original, MAIN_CF_REMOVE, names, NULL, 1, out);
    assert_string_equal(out->data,
                        "# top comment\nmyhostname = a.example\n# middle comment\n"
                        "mydomain = d\n# end\n");
    main_cf_edit_text(original, MAIN_CF_COMMENT, names, NULL, 1, out);
    assert_string_equal(out->data,
                        "# top comment\nmyhostname = a.example\n# middle comment\n"
                        "#relayhost = x\n#    y\nmydomain = d\n#relayhost = dup\n# end\n");
    strbuf_free(out);
}

static void test_file_without_final_newline(void **state)
{
    char   *names[] = {"b"};
    char   *values[] = {"2"};
    strbuf *out = strbuf_new(64);

    main_cf_edit_text("a = 1", MAIN_CF_SET, names, values, 1, out);
    assert_string_equal(out->data, "a = 1\nb = 2\n");
    main_cf_edit_text("", MAIN_CF_SET, names, values, 1, out);
    assert_string_equal(out->data, "b = 2\n");
    strbuf_free(out);
}

static void test_check_refuses_injection(void **state)
{
    strbuf *why = strbuf_new(64);

    assert_int_equal(main_cf_edit_check("relayhost", "x\nmynetworks = 0.0.0.0/0", why), -1);
    assert_non_null(strstr(why->data, "newline"));
    assert_int_equal(main_cf_edit_check("bad name", "x", why), -1);
    assert_int_equal(main_cf_edit_check("", "x", why), -1);
    assert_int_equal(main_cf_edit_check("relayhost", "[x]:25", why), 0);
    strbuf_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_replaces_every_entry_and_appends),
        cmocka_unit_test(test_round_trip_through_the_reader),
        cmocka_unit_test(test_remove_and_comment),
        cmocka_unit_test(test_file_without_final_newline),
        cmocka_unit_test(test_check_refuses_injection),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

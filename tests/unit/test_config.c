/* Unit tests for main.cf reading, overrides, $-expansion and typed parameters. */
#include "unit.h"

#include "config.h"
#include "expand.h"
#include "mail_params.h"
#include "strbuf.h"

static conf_file *parse(const char *text, strbuf *error)
{
    return conf_file_parse("/etc/x/main.cf", text, error);
}

static void test_assignments_comments_continuations(void **state)
{
    strbuf *error = strbuf_new(64);
    conf_file *cf = parse("# comment\n"
                          "myhostname = a.example  \n"
                          "\n"
                          "smtpd_banner = one\n"
                          "    two   \n"
                          "  # indented comment inside\n"
                          "\tthree\n"
                          "relayhost=[x]:25\n"
                          "empty =\n", error);

    assert_non_null(cf);
    assert_int_equal(cf->count, 4);
    assert_string_equal(conf_file_find(cf, "myhostname")->value, "a.example");
    assert_string_equal(conf_file_find(cf, "smtpd_banner")->value, "one two three");
    assert_int_equal(conf_file_find(cf, "smtpd_banner")->line, 4);
    assert_string_equal(conf_file_find(cf, "relayhost")->value, "[x]:25");
    assert_string_equal(conf_file_find(cf, "empty")->value, "");
    assert_int_equal(cf->warnings->count, 0);
    conf_file_free(cf);
    strbuf_free(error);
}

static void test_syntax_error_names_file_and_line(void **state)
{
    strbuf *error = strbuf_new(64);

    assert_null(parse("a = b\n# c\nbad line here\n", error));
    assert_string_equal(error->data, "/etc/x/main.cf, line 3: missing '=' after "
                        "attribute name: \"bad line here\"");
    assert_null(parse("ok = 1\n= value\n", error));
    assert_non_null(strstr(error->data, "line 2: missing '='"));
    assert_null(parse("x = 1\nbad\n  continued = 2\n", error));
    assert_non_null(strstr(error->data, "line 2:"));
    strbuf_free(error);
}

static void test_warnings_for_orphan_and_duplicate(void **state)
{
    strbuf *error = strbuf_new(64);
    conf_file *cf = parse(" leading = x\na = 1\na = 2\n", error);

    assert_non_null(cf);
    assert_int_equal(cf->warnings->count, 2);
    assert_non_null(strstr(cf->warnings->items[0], "must not start with whitespace"));
    assert_non_null(strstr(cf->warnings->items[1], "line 3: overriding earlier entry: a=1"));
    assert_string_equal(conf_file_find(cf, "a")->value, "2");
    conf_file_free(cf);
    strbuf_free(error);
}

static void test_read_missing_file(void **state)
{
    strbuf *error = strbuf_new(64);

    assert_null(conf_file_read("/nonexistent/main.cf", error));
    assert_non_null(strstr(error->data, "/nonexistent/main.cf"));
    strbuf_free(error);
}

/* A lookup table for expand tests: "name=value" pairs. */
static const char *const vars[] = {
    "a", "A", "b", "[$a]", "empty", "", "loop1", "$loop2", "loop2", "x$loop1",
    "nest", "${a?{$b}:{no}}", "dollar", "$$", NULL,
};

static const char *lookup(const char *name, void *context)
{
    for (int i = 0; vars[i]; i += 2)
        if (strcmp(vars[i], name) == 0)
            return vars[i + 1];
    return NULL;
}

static int undefined_count;
static void undefined(const char *name, void *context)
{
    undefined_count++;
}

static const char *expand(const char *text, int flags, int expect_rc)
{
    static strbuf *out;
    strbuf *why = strbuf_new(32);
    expand_ctx ctx = {.lookup = lookup,.undefined = undefined,.flags = flags };

    if (out == NULL)
        out = strbuf_new(32);
    strbuf_reset(out);
    assert_int_equal(expand_text(out, text, &ctx, why), expect_rc);
    strbuf_free(why);
    return out->data;
}

static void test_expand_forms(void **state)
{
    assert_string_equal(expand("x$a.${a}.$(a)y", EXPAND_RECURSIVE, 0), "xA.A.Ay");
    assert_string_equal(expand("$b", EXPAND_RECURSIVE, 0), "[A]");
    assert_string_equal(expand("$b", 0, 0), "[$a]");      /* values are data */
    assert_string_equal(expand("${a?yes}|${empty?yes}|${none?yes}", EXPAND_RECURSIVE, 0),
                        "yes||");
    assert_string_equal(expand("${a:no}|${empty:no}|${none:no}", EXPAND_RECURSIVE, 0),
                        "|no|no");
    assert_string_equal(expand("${a?{Y}:{N}} ${empty?{Y}:{N}}", EXPAND_RECURSIVE, 0), "Y N");
    assert_string_equal(expand("$nest", EXPAND_RECURSIVE, 0), "[A]");
    assert_string_equal(expand("${a=={A}?{same}:{diff}} ${a!={A}?{diff}:{same}}",
                               EXPAND_RECURSIVE, 0), "same same");
    assert_string_equal(expand("cost $$5 and $ alone", EXPAND_RECURSIVE, 0),
                        "cost $5 and $ alone");
    assert_string_equal(expand("$dollar", EXPAND_RECURSIVE, 0), "$");
}

static void test_expand_undefined_and_errors(void **state)
{
    undefined_count = 0;
    assert_string_equal(expand("<$nothing>", EXPAND_RECURSIVE, 0), "<>");
    assert_int_equal(undefined_count, 1);
    expand("$loop1", EXPAND_RECURSIVE, EXPAND_ERR_LOOP);
    expand("${a", EXPAND_RECURSIVE, EXPAND_ERR_SYNTAX);
    expand("${a?{x}:y}", EXPAND_RECURSIVE, EXPAND_ERR_SYNTAX);
    expand("${}", EXPAND_RECURSIVE, EXPAND_ERR_SYNTAX);
}

static void test_expand_filter(void **state)
{
    strbuf *out = strbuf_new(32);
    expand_ctx ctx = {.lookup = lookup,.filter = "abcdefghijklmnopqrstuvwxyz -/" };

    assert_int_equal(expand_text(out, "run $b", &ctx, NULL), 0);
    assert_string_equal(out->data, "run __a_");
    strbuf_free(out);
}

static void test_config_init_override_and_eval(void **state)
{
    char    dir[300];
    strbuf *value = strbuf_new(64);

    snprintf(dir, sizeof(dir), "%s/cfg", unit_temp_dir());
    mkdir(dir, 0755);
    snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/main.cf");
    FILE *fp = fopen(dir, "w");
    fputs("myhostname = mx.example.test\nmyorigin = $mydomain\n"
          "max_idle = 2m\nmessage_size_limit = 1000\n", fp);
    fclose(fp);
    *strrchr(dir, '/') = 0;
    config_init(dir);
    assert_string_equal(config_dir(), dir);
    assert_int_equal(config_eval("myorigin", value), 0);
    assert_string_equal(value->data, "example.test");       /* computed mydomain */
    assert_int_equal(config_eval("mydestination", value), 0);
    assert_string_equal(value->data, "mx.example.test, localhost.example.test, localhost");
    assert_int_equal(config_parse_override("myorigin = $myhostname"), 0);
    assert_int_equal(config_parse_override("novalue"), -1);
    assert_int_equal(config_eval("myorigin", value), 0);
    assert_string_equal(value->data, "mx.example.test");
    params_load();
    assert_int_equal(var_max_idle, 120);
    assert_int_equal(var_message_size_limit, 1000);
    assert_string_equal(var_mail_owner, "postfix");
    assert_int_equal(var_append_at_myorigin, 1);
    strbuf_free(value);
}

static void test_parse_typed_values(void **state)
{
    long    n;
    int     flag;

    assert_int_equal(param_parse_time("300s", 's', &n), 0);
    assert_int_equal(n, 300);
    assert_int_equal(param_parse_time("5", 'd', &n), 0);
    assert_int_equal(n, 5 * 86400);
    assert_int_equal(param_parse_time("2w", 's', &n), 0);
    assert_int_equal(n, 14 * 86400);
    assert_int_equal(param_parse_time("10x", 's', &n), -1);
    assert_int_equal(param_parse_time("s", 's', &n), -1);
    assert_int_equal(param_parse_time("10ss", 's', &n), -1);
    assert_int_equal(param_parse_time("99999999999d", 's', &n), -1);
    assert_int_equal(param_parse_long("abc", &n), -1);
    assert_int_equal(param_parse_long("12a", &n), -1);
    assert_int_equal(param_parse_long("-3", &n), 0);
    assert_int_equal(n, -3);
    assert_int_equal(param_parse_bool("Yes", &flag), 0);
    assert_int_equal(flag, 1);
    assert_int_equal(param_parse_bool("maybe", &flag), -1);
}

static void test_param_table_lookup(void **state)
{
    const param_def *p = param_find("maximal_queue_lifetime");

    if (p == NULL)
        p = param_find("max_idle");
    assert_non_null(p);
    assert_non_null(param_find("myhostname"));
    assert_null(param_find("no_such_parameter"));
    assert_string_equal(param_default_text(param_find("mail_owner")), "postfix");
    assert_int_equal(param_time_unit(param_find("max_idle")), 's');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assignments_comments_continuations),
        cmocka_unit_test(test_syntax_error_names_file_and_line),
        cmocka_unit_test(test_warnings_for_orphan_and_duplicate),
        cmocka_unit_test(test_read_missing_file),
        cmocka_unit_test(test_expand_forms),
        cmocka_unit_test(test_expand_undefined_and_errors),
        cmocka_unit_test(test_expand_filter),
        cmocka_unit_test(test_config_init_override_and_eval),
        cmocka_unit_test(test_parse_typed_values),
        cmocka_unit_test(test_param_table_lookup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

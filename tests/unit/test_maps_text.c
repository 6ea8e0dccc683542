/*
 * Unit tests for the text-based table types: regexp, pcre, cidr, texthash,
 * inline, static, unix and fail. Good files, every kind of malformed line
 * (the error names the file and the line), substitutions, IPv6.
 */
#include "unit.h"

#include <pwd.h>

#include "map.h"
#include "mem.h"

/* Writes a table file and opens "type:path"; the caller closes the map. */
static map_t *open_text(const char *type, const char *name, const char *text)
{
    const char *path = unit_temp_file(name, text);
    char   *spec = xmalloc(strlen(type) + strlen(path) + 2);
    map_t  *map;

    sprintf(spec, "%s:%s", type, path);
    map = map_open(spec, MAP_READ, MAP_FLAG_FOLD);
    free(spec);
    return map;
}

static void assert_lookup(map_t *map, const char *key, const char *expected)
{
    const char *value;

    if (expected == NULL) {
        assert_int_equal(map_lookup(map, key, &value), MAP_NOTFOUND);
    } else {
        assert_int_equal(map_lookup(map, key, &value), MAP_OK);
        assert_string_equal(value, expected);
    }
}

/* The map is broken and its error names the file, the line and the reason. */
static void assert_broken_at(map_t *map, const char *file, int line, const char *reason)
{
    char    where[600];
    const char *value;

    assert_true(map_broken(map));
    snprintf(where, sizeof(where), "%s/%s, line %d: ", unit_temp_dir(), file, line);
    assert_non_null(strstr(map_error(map), where));
    assert_non_null(strstr(map_error(map), reason));
    assert_int_equal(map_lookup(map, "anything", &value), MAP_ERROR);
    map_close(map);
}

static const char *pattern_table =
    "# comment\n"
    "/^(.*)@example\\.com$/   user=$1\n"
    "/^abcd/                 ABCD\n"
    "/^CaseSensitive$/i      exact case\n"
    "if /^x/\n"
    "/^xy(z)/                xyz ${1} $(1)\n"
    "!/q/                    x without q\n"
    "endif\n"
    "/^a(b)?c$/              [$1]\n"
    "/^dollar$/              $$1 costs\n"
    "/^mid\\/slash/          slash\n"
    "#/^commented/ no\n"
    "/^multi/                one\n"
    "   two\n";

static void check_pattern_table(map_t *map)
{
    assert_false(map_broken(map));
    assert_true(map_flags(map) & MAP_FLAG_PATTERN);
    assert_lookup(map, "Joe@Example.COM", "user=Joe");
    assert_lookup(map, "ABCdef", "ABCD");
    assert_lookup(map, "CaseSensitive", "exact case");
    assert_lookup(map, "casesensitive", NULL);
    assert_lookup(map, "xyz", "xyz z z");
    assert_lookup(map, "xa", "x without q");
    assert_lookup(map, "xq", NULL);                 /* inside if, neither rule fires */
    assert_lookup(map, "q", NULL);                  /* if /^x/ fails: block skipped */
    assert_lookup(map, "abc", "[b]");
    assert_lookup(map, "ac", "[]");                 /* unset group: empty */
    assert_lookup(map, "dollar", "$1 costs");
    assert_lookup(map, "mid/slash", "slash");
    assert_lookup(map, "commented", NULL);
    assert_lookup(map, "multi", "one   two");
    map_close(map);
}

static void test_regexp_table(void **state)
{
    check_pattern_table(open_text("regexp", "good.regexp", pattern_table));
}

static void test_pcre_table(void **state)
{
    map_t  *map;

    check_pattern_table(open_text("pcre", "good.pcre", pattern_table));
    map = open_text("pcre", "flags.pcre", "/^a.b$/ dotall\n/^c.d$/s no-dotall\n"
                    "/^(?<name>e)\\d+$/ named $1\n");
    assert_lookup(map, "a\nb", "dotall");
    assert_lookup(map, "c\nd", NULL);
    assert_lookup(map, "e42", "named e");
    map_close(map);
}

static void test_pattern_keys_are_not_folded(void **state)
{
    map_t  *map = open_text("regexp", "case.regexp", "/^(.*)$/ got $1\n");

    assert_lookup(map, "MiXeD", "got MiXeD");
    map_close(map);
}

static void test_regexp_malformed_lines(void **state)
{
    assert_broken_at(open_text("regexp", "bad1.regexp", "/ok/ 1\n/[/ bad\n"),
                     "bad1.regexp", 2, "regexp map");
    assert_broken_at(open_text("regexp", "bad2.regexp", "/ok/ 1\n\n/unterminated\n"),
                     "bad2.regexp", 3, "no closing regexp delimiter \"/\"");
    assert_broken_at(open_text("regexp", "bad3.regexp", "/foo/z x\n"),
                     "bad3.regexp", 1, "unknown regexp option \"z\"");
    assert_broken_at(open_text("regexp", "bad4.regexp", "/(a)/ $2\n"),
                     "bad4.regexp", 1, "out of range replacement index \"2\"");
    assert_broken_at(open_text("regexp", "bad5.regexp", "/(a)/ $1x\n"),
                     "bad5.regexp", 1, "non-numeric replacement index \"1x\"");
    assert_broken_at(open_text("regexp", "bad6.regexp", "!/(a)/ $1\n"),
                     "bad6.regexp", 1, "$number found in negative match");
    assert_broken_at(open_text("regexp", "bad7.regexp", "/a/ ${1\n"),
                     "bad7.regexp", 1, "truncated macro reference");
    assert_broken_at(open_text("regexp", "bad8.regexp", "/a/ x $\n"),
                     "bad8.regexp", 1, "empty macro name");
    assert_broken_at(open_text("regexp", "bad9.regexp", "if /a/ extra\n/b/ c\nendif\n"),
                     "bad9.regexp", 1, "extra text after IF statement");
    assert_broken_at(open_text("regexp", "bad10.regexp", "if /a/\n/b/ 1\nendif x\n"),
                     "bad10.regexp", 3, "extra text after ENDIF");
    assert_broken_at(open_text("regexp", "bad11.regexp", " /a/ 1\n"),
                     "bad11.regexp", 1, "logical line must not start with whitespace");
    assert_broken_at(open_text("regexp", "bad12.regexp", "abc def\n"),
                     "bad12.regexp", 1, "no regexp delimiter");
}

static void test_pcre_malformed_lines(void **state)
{
    assert_broken_at(open_text("pcre", "bad1.pcre", "/ok/ 1\n/(/ bad\n"),
                     "bad1.pcre", 2, "error in regex at offset");
    assert_broken_at(open_text("pcre", "bad2.pcre", "/a/X x\n"),
                     "bad2.pcre", 1, "not supported with PCRE2");
}

static void test_pattern_warnings_keep_the_table(void **state)
{
    map_t  *map = open_text("regexp", "warn.regexp",
                            "endif\n/empty/\nif /a/\n/ab/ AB\n");

    assert_false(map_broken(map));
    assert_lookup(map, "empty", "");
    assert_lookup(map, "ab", "AB");
    map_close(map);
}

static void test_inline_rule_tables(void **state)
{
    map_t  *map = map_open("regexp:{ {/^a(.)/ got $1}, { /^b/ bee } }", MAP_READ, 0);

    assert_false(map_broken(map));
    assert_lookup(map, "ax", "got x");
    assert_lookup(map, "b", "bee");
    map_close(map);
    map = map_open("cidr:{ {10.0.0.0/8 ten}, {[::1] local} }", MAP_READ, 0);
    assert_lookup(map, "10.1.2.3", "ten");
    assert_lookup(map, "::1", "local");
    map_close(map);
    map = map_open("pcre:{ /^a/ no-braces }", MAP_READ, 0);
    assert_true(map_broken(map));
    assert_non_null(strstr(map_error(map), "no '{' at start of text"));
    map_close(map);
}

static void test_cidr_table(void **state)
{
    map_t  *map = open_text("cidr", "good.cidr",
                            "192.168.1.1      one\n"
                            "10.0.0.0/8       ten\n"
                            "[2001:db8::1]    v6one\n"
                            "2001:db8::/32    v6net\n"
                            "[2001:db9::]/32  bracketed\n"
                            "if 127.0.0.0/8\n"
                            "!127.0.0.1       loopback-not-1\n"
                            "endif\n"
                            "::ffff:1.2.3.4   mapped\n"
                            "0.0.0.0/0        anything-v4\n");

    assert_false(map_broken(map));
    assert_lookup(map, "192.168.1.1", "one");
    assert_lookup(map, "10.255.0.1", "ten");
    assert_lookup(map, "2001:db8::1", "v6one");
    assert_lookup(map, "2001:DB8:0:0::5", "v6net");
    assert_lookup(map, "2001:db9:ffff::7", "bracketed");
    assert_lookup(map, "127.0.0.2", "loopback-not-1");
    assert_lookup(map, "127.0.0.1", "anything-v4");
    assert_lookup(map, "::ffff:1.2.3.4", "mapped");
    assert_lookup(map, "8.8.8.8", "anything-v4");
    assert_lookup(map, "2001:dead::1", NULL);      /* IPv6 never matches 0.0.0.0/0 */
    assert_lookup(map, "[10.1.1.1]", NULL);         /* keys are bare addresses */
    assert_lookup(map, "host.example.com", NULL);
    map_close(map);
}

static void test_cidr_malformed_lines(void **state)
{
    assert_broken_at(open_text("cidr", "bad1.cidr", "10.0.0.0/8 ok\n1.2.3.4/24 bits\n"),
                     "bad1.cidr", 2,
                     "non-null host address bits in \"1.2.3.4/24\", perhaps you should use "
                     "\"1.2.3.0/24\" instead");
    assert_broken_at(open_text("cidr", "bad2.cidr", "300.1.1.1 x\n"),
                     "bad2.cidr", 1, "bad address pattern: \"300.1.1.1\"");
    assert_broken_at(open_text("cidr", "bad3.cidr", "10.0.0.0/33 x\n"),
                     "bad3.cidr", 1, "bad mask length in \"10.0.0.0/33\"");
    assert_broken_at(open_text("cidr", "bad4.cidr", "\n\n1.2.3.0/24\n"),
                     "bad4.cidr", 3, "no lookup result");
    assert_broken_at(open_text("cidr", "bad5.cidr", "[2001:db8::1/64 x\n"),
                     "bad5.cidr", 1, "bad address pattern");
    assert_broken_at(open_text("cidr", "bad6.cidr", "2001:db8::1/64 x\n"),
                     "bad6.cidr", 1, "\"2001:db8::/64\" instead");
}

static void test_texthash_table(void **state)
{
    map_t  *map = open_text("texthash", "good.texthash",
                            "# comment\n"
                            "Key1   value one\n"
                            "key1   duplicate keeps the first\n"
                            "key2\tvalue two  \n"
                            "  continued\n"
                            "\"quoted key\" q\n");

    assert_false(map_broken(map));
    assert_lookup(map, "KEY1", "value one");
    assert_lookup(map, "key2", "value two    continued");
    assert_lookup(map, "\"quoted key\"", "q");
    assert_lookup(map, "missing", NULL);
    map_close(map);
    assert_broken_at(open_text("texthash", "bad.texthash", "a 1\nnovalue\n"),
                     "bad.texthash", 2, "expected format: key whitespace value");
    assert_broken_at(open_text("texthash", "bad2.texthash", "a 1\n\"open quote 2\n"),
                     "bad2.texthash", 2, "unbalanced '\"'");
}

static void test_inline_table(void **state)
{
    map_t  *map = map_open("inline:{ Key1=one, key2=two, { key3 = x, y } }", MAP_READ,
                           MAP_FLAG_FOLD);
    const char *key;
    const char *value;
    int     count = 0;

    assert_false(map_broken(map));
    assert_lookup(map, "KEY1", "one");
    assert_lookup(map, "key3", "x, y");
    assert_lookup(map, "key4", NULL);
    for (int first = 1; map_sequence(map, first, &key, &value) == MAP_OK; first = 0)
        count++;
    assert_int_equal(count, 3);
    map_close(map);
    map = map_open("inline:{ a=1, b = 2 }", MAP_READ, MAP_FLAG_FOLD);
    assert_true(map_broken(map));
    assert_non_null(strstr(map_error(map), "missing '=' after attribute name"));
    map_close(map);
    map = map_open("inline:{}", MAP_READ, 0);
    assert_true(map_broken(map));
    map_close(map);
    map = map_open("inline:a=1", MAP_READ, 0);
    assert_true(map_broken(map));
    assert_non_null(strstr(map_error(map), "need \"inline:{name=value...}\""));
    map_close(map);
}

static void test_static_unix_and_fail(void **state)
{
    const char *value;
    const char *key;
    char    expected[512];
    struct passwd *pw;
    map_t  *map = map_open("static:{hello world}", MAP_READ, 0);

    assert_lookup(map, "anything", "hello world");
    assert_int_equal(map_sequence(map, 1, &key, &value), MAP_ERROR);
    assert_non_null(strstr(map_error(map), "sequence operation is not supported"));
    map_close(map);

    pw = getpwnam("root");
    snprintf(expected, sizeof(expected), "root:%s:0:0:%s:%s:%s", pw->pw_passwd, pw->pw_gecos,
             pw->pw_dir, pw->pw_shell);
    map = map_open("unix:passwd.byname", MAP_READ, MAP_FLAG_FOLD);
    assert_lookup(map, "ROOT", expected);
    assert_lookup(map, "no-such-user-here", NULL);
    map_close(map);
    map = map_open("unix:group.byname", MAP_READ, 0);
    assert_int_equal(map_lookup(map, "root", &value), MAP_OK);
    assert_int_equal(strncmp(value, "root:", 5), 0);
    map_close(map);
    map = map_open("unix:nosuch.byname", MAP_READ, 0);
    assert_true(map_broken(map));
    assert_string_equal(map_error(map), "unknown table: unix:nosuch.byname");
    map_close(map);

    map = map_open("fail:test", MAP_READ, 0);
    assert_false(map_broken(map));
    assert_int_equal(map_lookup(map, "key", &value), MAP_ERROR);
    assert_string_equal(map_error(map), "configured to fail every request");
    map_close(map);
}

static void test_missing_text_file(void **state)
{
    map_t  *map = map_open("regexp:/nonexistent/file", MAP_READ, 0);

    assert_true(map_broken(map));
    assert_string_equal(map_error(map), "open /nonexistent/file: No such file or directory");
    map_close(map);
    map = map_open("cidr:/dev/zero", MAP_READ, 0);  /* would never end */
    assert_true(map_broken(map));
    assert_string_equal(map_error(map), "open /dev/zero: not a regular file");
    map_close(map);
}

static void test_text_table_follows_edits(void **state)
{
    map_t  *map = open_text("regexp", "edited.regexp", "/^a/ first\n");
    const char *path = unit_temp_file("edited.regexp.new", "/^a/ second\n");
    char    target[512];

    snprintf(target, sizeof(target), "%s/edited.regexp", unit_temp_dir());
    assert_lookup(map, "a", "first");
    assert_int_equal(rename(path, target), 0);
    assert_lookup(map, "a", "second");
    map_close(map);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regexp_table),
        cmocka_unit_test(test_pcre_table),
        cmocka_unit_test(test_pattern_keys_are_not_folded),
        cmocka_unit_test(test_regexp_malformed_lines),
        cmocka_unit_test(test_pcre_malformed_lines),
        cmocka_unit_test(test_pattern_warnings_keep_the_table),
        cmocka_unit_test(test_inline_rule_tables),
        cmocka_unit_test(test_cidr_table),
        cmocka_unit_test(test_cidr_malformed_lines),
        cmocka_unit_test(test_texthash_table),
        cmocka_unit_test(test_inline_table),
        cmocka_unit_test(test_static_unix_and_fail),
        cmocka_unit_test(test_missing_text_file),
        cmocka_unit_test(test_text_table_follows_edits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

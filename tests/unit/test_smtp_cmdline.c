/* Unit tests for smtp_cmdline: line ends, NUL, verbs, BDAT arguments, escaping. */
#include "unit.h"

#include "smtp_cmdline.h"

static smtp_cmdline *parse(const char *line, size_t len, int complete)
{
    smtp_cmdline *cmd = smtp_cmdline_new();

    smtp_cmdline_set(cmd, line, len, complete);
    return cmd;
}

static void test_line_ends(void **state)
{
    smtp_cmdline *cmd = parse("NOOP\r\n", 6, 1);

    assert_string_equal(cmd->text->data, "NOOP");
    assert_int_equal(cmd->flags, 0);
    smtp_cmdline_set(cmd, "NOOP\n", 5, 1);
    assert_string_equal(cmd->text->data, "NOOP");
    assert_int_equal(cmd->flags, SMTP_CMDLINE_BARE_LF);
    smtp_cmdline_set(cmd, "NOOPxxxx", 8, 0);
    assert_true(cmd->flags & SMTP_CMDLINE_CUT);
    smtp_cmdline_set(cmd, "NOOP\r\r\n", 7, 1);
    assert_string_equal(cmd->text->data, "NOOP\r");
    assert_true(cmd->flags & SMTP_CMDLINE_CONTROL);
    smtp_cmdline_free(cmd);
}

/* Nothing after a NUL is ever interpreted. */
static void test_nul_cuts(void **state)
{
    smtp_cmdline *cmd = parse("MAIL FROM:<a\0@b>\r\n", 18, 1);

    assert_string_equal(cmd->text->data, "MAIL FROM:<a");
    assert_int_equal(cmd->text->len, 12);
    assert_true(cmd->flags & SMTP_CMDLINE_NUL);
    smtp_cmdline_free(cmd);
}

static void test_verb_and_args(void **state)
{
    smtp_cmdline *cmd = parse("mail  \tFROM:<a@b> SIZE=1\r\n", 26, 1);

    assert_true(smtp_cmdline_verb_is(cmd, "MAIL"));
    assert_false(smtp_cmdline_verb_is(cmd, "MAI"));
    assert_false(smtp_cmdline_verb_is(cmd, "MAILX"));
    assert_string_equal(cmd->text->data + cmd->args, "FROM:<a@b> SIZE=1");
    assert_int_equal(smtp_cmdline_words(cmd), 3);
    smtp_cmdline_set(cmd, "", 0, 1);
    assert_int_equal(smtp_cmdline_words(cmd), 0);
    assert_int_equal(cmd->verb_len, 0);
    smtp_cmdline_free(cmd);
}

static void test_utf8_flags(void **state)
{
    smtp_cmdline *cmd = parse("EHLO b\xc3\xbc" "cher\r\n", 13, 1);

    assert_true(cmd->flags & SMTP_CMDLINE_8BIT);
    assert_false(cmd->flags & SMTP_CMDLINE_BAD_UTF8);
    smtp_cmdline_set(cmd, "\xff\xfe\r\n", 4, 1);
    assert_true(cmd->flags & SMTP_CMDLINE_BAD_UTF8);
    smtp_cmdline_free(cmd);
}

static void test_header_like(void **state)
{
    static const struct {
        const char *line;
        int     header;
    } cases[] = {
        {"Subject: hello", 1}, {"From:x", 1}, {"X-Mailer:", 1}, {"MAIL FROM:<a@b>", 0},
        {"GET / HTTP/1.0", 0}, {":x", 0}, {"NOOP", 0}, {"", 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        smtp_cmdline *cmd = parse(cases[i].line, strlen(cases[i].line), 0);

        assert_int_equal(smtp_cmdline_header_like(cmd), cases[i].header);
        smtp_cmdline_free(cmd);
    }
}

static void test_bdat_args(void **state)
{
    unsigned long long size;
    int     last;

    assert_int_equal(smtp_bdat_args("5", 1, &size, &last), 0);
    assert_int_equal(size, 5);
    assert_false(last);
    assert_int_equal(smtp_bdat_args("0 last", 6, &size, &last), 0);
    assert_int_equal(size, 0);
    assert_true(last);
    assert_int_equal(smtp_bdat_args("12  LAST ", 9, &size, &last), 0);
    assert_true(last);
    assert_int_equal(smtp_bdat_args("", 0, &size, &last), -1);
    assert_int_equal(smtp_bdat_args("abc", 3, &size, &last), -1);
    assert_int_equal(smtp_bdat_args("5LAST", 5, &size, &last), -1);
    assert_int_equal(smtp_bdat_args("5 LAST foo", 10, &size, &last), -1);
    assert_int_equal(smtp_bdat_args("-1", 2, &size, &last), -1);
    assert_int_equal(smtp_bdat_args("1234567890123456789", 19, &size, &last), -1);
    assert_int_equal(smtp_bdat_args("123456789012345678", 18, &size, &last), 0);
}

static void test_escape(void **state)
{
    strbuf *out = strbuf_new(16);

    smtp_escape(out, "NOOP\r\n\t\\\x01\xff", 10, 100);
    assert_string_equal(out->data, "NOOP\\r\\n\\t\\\\\\001\\377");
    strbuf_reset(out);
    smtp_escape(out, "abcdef", 6, 3);
    assert_string_equal(out->data, "abc");
    strbuf_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_ends),
        cmocka_unit_test(test_nul_cuts),
        cmocka_unit_test(test_verb_and_args),
        cmocka_unit_test(test_utf8_flags),
        cmocka_unit_test(test_header_like),
        cmocka_unit_test(test_bdat_args),
        cmocka_unit_test(test_escape),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

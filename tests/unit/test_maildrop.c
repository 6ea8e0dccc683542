/*
 * Unit tests for the maildrop record rules (maildrop.h): the layout
 * postdrop accepts and pickup reads, every way a file can break it, and the
 * header/body check actions (header_body_checks.h).
 */
#include "unit.h"

#include "dsn.h"
#include "header_body_checks.h"
#include "maildrop.h"
#include "record.h"

typedef struct rec {
    int     type;
    const char *data;
} rec;

/* Runs records through a check; returns the index of the first refusal, or -1. */
static int check_records(int flags, const rec *records, maildrop_check *check, strbuf *why)
{
    strbuf *data = strbuf_new(64);
    int     bad = -1;

    maildrop_check_init(check, flags);
    for (int i = 0; records[i].type && bad < 0; i++) {
        strbuf_set(data, records[i].data);
        if (maildrop_check_record(check, records[i].type, data, why) < 0)
            bad = i;
    }
    strbuf_free(data);
    return bad;
}

static void test_valid_files(void **unused)
{
    static const rec file[] = {
        {'T', "1700000000.123456"}, {'A', "dsn_envid=abc"}, {'A', "dsn_ret=2"},
        {'A', "encoding=8bitmime"}, {'S', "alice"}, {'F', "Alice Smith"}, {'N', "10"},
        {'R', "bob@example.test"}, {'R', "carol"}, {'M', ""}, {'L', "Subject: x"}, {'L', ""},
        {'C', "long "}, {'L', "line"}, {'X', ""}, {'E', ""}, {0, NULL},
    };
    static const rec input[] = {
        {'A', "extract_recipients=1"}, {'A', "dsn_notify=1"}, {'S', ""}, {'M', ""},
        {'X', ""}, {'E', ""}, {0, NULL},
    };
    maildrop_check check;
    strbuf *why = strbuf_new(64);

    (void) unused;
    assert_int_equal(check_records(0, file, &check, why), -1);
    assert_int_equal(maildrop_check_end(&check, why), 0);
    assert_string_equal(check.sender->data, "alice");
    assert_int_equal(check.recipients, 2);
    assert_int_equal(check.arrival.tv_sec, 1700000000);
    assert_int_equal(check.arrival.tv_usec, 123456);
    assert_false(check.extract);
    maildrop_check_free(&check);
    assert_int_equal(check_records(MAILDROP_INPUT, input, &check, why), -1);
    assert_int_equal(maildrop_check_end(&check, why), 0);
    assert_true(check.extract);
    maildrop_check_free(&check);
    strbuf_free(why);
}

typedef struct bad_case {
    rec     records[8];
    const char *why;
} bad_case;

static void test_refused_files(void **unused)
{
    static const bad_case cases[] = {
        {{{'S', "a"}}, "missing arrival time"},
        {{{'T', "17x.000000"}}, "bad arrival time"},
        {{{'T', "1.12345"}}, "bad arrival time"},
        {{{'T', "1.000000"}, {'A', "client_address=1.2.3.4"}}, "unknown attribute"},
        {{{'T', "1.000000"}, {'A', "dsn_ret=3"}}, "bad attribute value"},
        {{{'T', "1.000000"}, {'A', "dsn_ret=1"}, {'A', "dsn_ret=1"}}, "duplicate attribute"},
        {{{'T', "1.000000"}, {'A', "dsn_envid=a b"}}, "bad attribute value"},
        {{{'T', "1.000000"}, {'A', "dsn_notify=3"}}, "bad attribute value"},
        {{{'T', "1.000000"}, {'A', "noequals"}}, "bad attribute"},
        {{{'T', "1.000000"}, {'S', "a\r\nb"}}, "misplaced or bad sender"},
        {{{'T', "1.000000"}, {'S', "a"}, {'S', "b"}}, "misplaced or bad sender"},
        {{{'T', "1.000000"}, {'S', "a"}, {'A', "dsn_ret=1"}}, "attribute after sender"},
        {{{'T', "1.000000"}, {'R', "b"}}, "misplaced or bad recipient"},
        {{{'T', "1.000000"}, {'S', "a"}, {'R', ""}}, "misplaced or bad recipient"},
        {{{'T', "1.000000"}, {'S', "a"}, {'R', "b"}, {'F', "late"}}, "misplaced or bad full name"},
        {{{'T', "1.000000"}, {'S', "a"}, {'N', "9"}}, "misplaced or bad notify flags"},
        {{{'T', "1.000000"}, {'S', "a"}, {'N', "8"}, {'M', ""}}, "misplaced message start"},
        {{{'T', "1.000000"}, {'S', "a"}, {'M', ""}}, "no recipients"},
        {{{'T', "1.000000"}, {'S', "a"}, {'R', "b"}, {'M', ""}, {'R', "c"}},
         "unexpected record in content"},
        {{{'T', "1.000000"}, {'S', "a"}, {'R', "b"}, {'M', ""}, {'X', ""}, {'R', "c"}},
         "unexpected record after content"},
        {{{'T', "1.000000"}, {'S', "a"}, {'R', "b"}, {'M', ""}, {'X', ""}, {'E', ""}, {'E', ""}},
         "data after the end record"},
        {{{'T', "1.000000"}, {'V', "x"}}, "unexpected record"},
        {{{'T', "1.000000"}, {'S', "a"}, {'D', "done"}}, "unexpected record"},
    };
    strbuf *why = strbuf_new(64);
    maildrop_check check;

    (void) unused;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int     n = 0;

        while (n < 8 && cases[i].records[n].type)
            n++;
        assert_int_equal(check_records(0, cases[i].records, &check, why), n - 1);
        if (strstr(why->data, cases[i].why) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, why->data, cases[i].why);
        maildrop_check_free(&check);
    }
    strbuf_free(why);
}

static void test_incomplete_file(void **unused)
{
    static const rec file[] = {
        {'T', "1.000000"}, {'S', "a"}, {'R', "b"}, {'M', ""}, {'L', "x"}, {0, NULL},
    };
    static const rec input[] = {{'T', "1.000000"}, {0, NULL}};
    maildrop_check check;
    strbuf *why = strbuf_new(64);

    (void) unused;
    assert_int_equal(check_records(0, file, &check, why), -1);
    assert_int_equal(maildrop_check_end(&check, why), -1);
    assert_string_equal(why->data, "premature end of file");
    maildrop_check_free(&check);
    /* postdrop's input has no T record: sendmail may not send one. */
    assert_int_equal(check_records(MAILDROP_INPUT, input, &check, why), 0);
    maildrop_check_free(&check);
    strbuf_free(why);
}

static void test_limits(void **unused)
{
    maildrop_check check;
    strbuf *why = strbuf_new(64);
    strbuf *data = strbuf_new(8192);

    (void) unused;
    maildrop_check_init(&check, MAILDROP_INPUT);
    for (int i = 0; i <= MAILDROP_ADDRESS_MAX; i++)
        strbuf_append_char(data, 'a');
    assert_int_equal(maildrop_check_record(&check, 'S', data, why), -1);
    strbuf_truncate(data, MAILDROP_ADDRESS_MAX);
    assert_int_equal(maildrop_check_record(&check, 'S', data, why), 0);
    strbuf_truncate(data, MAILDROP_FULLNAME_MAX + 1);
    assert_int_equal(maildrop_check_record(&check, 'F', data, why), -1);
    strbuf_set_mem(data, "b\0c", 3);
    assert_int_equal(maildrop_check_record(&check, 'R', data, why), -1);
    maildrop_check_free(&check);
    strbuf_free(why);
    strbuf_free(data);
}

static void expect_action(const char *value, enum hbc_context context, enum hbc_action action,
                          const char *dsn, const char *text)
{
    hbc_result r;
    strbuf *why = strbuf_new(32);

    hbc_result_init(&r);
    if (hbc_parse(value, context, &r, why) < 0)
        fail_msg("\"%s\": %s", value, why->data);
    assert_int_equal(r.action, action);
    assert_string_equal(r.dsn->data, dsn);
    assert_string_equal(r.text->data, text);
    hbc_result_free(&r);
    strbuf_free(why);
}

static void expect_refused(const char *value, enum hbc_context context, const char *why_part)
{
    hbc_result r;
    strbuf *why = strbuf_new(32);

    hbc_result_init(&r);
    assert_int_equal(hbc_parse(value, context, &r, why), -1);
    assert_int_equal(r.action, HBC_DUNNO);
    if (strstr(why->data, why_part) == NULL)
        fail_msg("\"%s\": \"%s\" lacks \"%s\"", value, why->data, why_part);
    hbc_result_free(&r);
    strbuf_free(why);
}

static void test_check_actions(void **unused)
{
    (void) unused;
    expect_action("REJECT", HBC_CONTEXT_HEADER, HBC_REJECT, "5.7.1", "message content rejected");
    expect_action("reject  go away", HBC_CONTEXT_HEADER, HBC_REJECT, "5.7.1", "go away");
    expect_action("REJECT 5.7.0 coded", HBC_CONTEXT_BODY, HBC_REJECT, "5.7.0", "coded");
    expect_action("REJECT 4.7.0 not a 5", HBC_CONTEXT_BODY, HBC_REJECT, "5.7.1", "4.7.0 not a 5");
    expect_action("REJECT 5.7.1000 x", HBC_CONTEXT_BODY, HBC_REJECT, "5.7.1", "5.7.1000 x");
    expect_action("OK", HBC_CONTEXT_HEADER, HBC_DUNNO, "", "");
    expect_action("DUNNO", HBC_CONTEXT_HEADER, HBC_DUNNO, "", "");
    expect_action("IGNORE", HBC_CONTEXT_BODY, HBC_IGNORE, "", "");
    expect_action("STRIP why", HBC_CONTEXT_BODY, HBC_STRIP, "", "why");
    expect_action("WARN", HBC_CONTEXT_HEADER, HBC_WARN, "", "");
    expect_action("Info noted", HBC_CONTEXT_HEADER, HBC_INFO, "", "noted");
    expect_action("HOLD", HBC_CONTEXT_HEADER, HBC_HOLD, "", "");
    expect_action("DISCARD bye", HBC_CONTEXT_HEADER, HBC_DISCARD, "", "bye");
    expect_action("PASS", HBC_CONTEXT_HEADER, HBC_PASS, "", "");
    expect_action("PREPEND X-A: b", HBC_CONTEXT_HEADER, HBC_PREPEND, "", "X-A: b");
    expect_action("PREPEND any text", HBC_CONTEXT_BODY, HBC_PREPEND, "", "any text");
    expect_action("REPLACE X-B:\tc", HBC_CONTEXT_HEADER, HBC_REPLACE, "", "X-B:\tc");
    expect_action("REDIRECT a@b.example", HBC_CONTEXT_HEADER, HBC_REDIRECT, "", "a@b.example");
    expect_action("BCC spy@b.example", HBC_CONTEXT_BODY, HBC_BCC, "", "spy@b.example");
    expect_action("FILTER smtp:[127.0.0.1]:10025", HBC_CONTEXT_HEADER, HBC_FILTER, "",
                  "smtp:[127.0.0.1]:10025");
    expect_action("FILTER relay:", HBC_CONTEXT_HEADER, HBC_FILTER, "", "relay:");
    expect_refused("FROBNICATE", HBC_CONTEXT_HEADER, "unknown action");
    expect_refused("", HBC_CONTEXT_HEADER, "unknown action");
    expect_refused("PREPEND", HBC_CONTEXT_HEADER, "requires an argument");
    expect_refused("PREPEND not a header", HBC_CONTEXT_HEADER, "is not a message header");
    expect_refused("REPLACE X-A: b\r\nX-Injected: c", HBC_CONTEXT_HEADER, "control character");
    expect_refused("REDIRECT nodomain", HBC_CONTEXT_HEADER, "bad address");
    expect_refused("BCC a@b c@d", HBC_CONTEXT_HEADER, "bad address");
    expect_refused("FILTER nocolon", HBC_CONTEXT_HEADER, "bad transport:destination");
    expect_refused("FILTER :nexthop", HBC_CONTEXT_HEADER, "bad transport:destination");
    assert_string_equal(hbc_action_name(HBC_WARN), "warning");
    assert_string_equal(hbc_action_name(HBC_REJECT), "reject");
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_files),
        cmocka_unit_test(test_refused_files),
        cmocka_unit_test(test_incomplete_file),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_check_actions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

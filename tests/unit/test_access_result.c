/*
 * Unit tests for access_result: every action of access(5), enhanced status
 * codes, reply codes, required arguments and untrusted values.
 */
#include "unit.h"

#include "access_result.h"

static access_result *parse_ok(const char *value, enum access_action action,
                               const char *text)
{
    strbuf *why = strbuf_new(32);
    access_result *result = access_result_parse(value, why);

    if (result == NULL)
        fail_msg("\"%s\": %s", value, why->data);
    assert_int_equal(result->action, action);
    assert_string_equal(result->text, text);
    strbuf_free(why);
    return result;
}

static void check(const char *value, enum access_action action, int code, const char *dsn,
                  const char *text)
{
    access_result *result = parse_ok(value, action, text);

    assert_int_equal(result->code, code);
    assert_string_equal(result->dsn, dsn);
    access_result_free(result);
}

static void check_bad(const char *value, const char *reason)
{
    strbuf *why = strbuf_new(32);

    assert_null(access_result_parse(value, why));
    assert_non_null(strstr(why->data, reason));
    strbuf_free(why);
}

static void test_accept_actions(void **state)
{
    check("OK", ACCESS_OK, 0, "", "");
    check("ok", ACCESS_OK, 0, "", "");
    check("  OK  trailing words ", ACCESS_OK, 0, "", "trailing words");
    check("12345", ACCESS_OK, 0, "", "12345");      /* all-numerical */
    check("550", ACCESS_OK, 0, "", "550");          /* all-numerical, as Postfix */
    check("DUNNO", ACCESS_DUNNO, 0, "", "");
}

static void test_reject_and_defer_actions(void **state)
{
    check("REJECT", ACCESS_REJECT, 0, "", "");
    check("reject go away", ACCESS_REJECT, 0, "", "go away");
    check("REJECT 5.7.1 go away", ACCESS_REJECT, 0, "5.7.1", "go away");
    check("REJECT 4.7.1 wrong class", ACCESS_REJECT, 0, "5.7.1", "wrong class");
    check("REJECT 5.7.1000 not a status", ACCESS_REJECT, 0, "", "5.7.1000 not a status");
    check("550 5.1.1 no such user", ACCESS_REJECT, 550, "5.1.1", "no such user");
    check("521 bye", ACCESS_REJECT, 521, "", "bye");
    check("450 4.2.0 later", ACCESS_DEFER, 450, "4.2.0", "later");
    check("421 closing", ACCESS_DEFER, 421, "", "closing");
    check("DEFER try later", ACCESS_DEFER, 0, "", "try later");
    check("DEFER 4.3.0", ACCESS_DEFER, 0, "4.3.0", "");
    check("DEFER_IF_REJECT maybe", ACCESS_DEFER_IF_REJECT, 0, "", "maybe");
    check("DEFER_IF_PERMIT 5.7.1 x", ACCESS_DEFER_IF_PERMIT, 0, "4.7.1", "x");
    check_bad("250 fine", "invalid reply code 250");
    check_bad("650 x", "invalid reply code 650");
}

static void test_other_actions(void **state)
{
    check("DISCARD", ACCESS_DISCARD, 0, "", "");
    check("DISCARD spam", ACCESS_DISCARD, 0, "", "spam");
    check("HOLD check this", ACCESS_HOLD, 0, "", "check this");
    check("WARN odd", ACCESS_WARN, 0, "", "odd");
    check("INFO note", ACCESS_INFO, 0, "", "note");
    check("FILTER smtp:[127.0.0.1]:10025", ACCESS_FILTER, 0, "", "smtp:[127.0.0.1]:10025");
    check("FILTER relay:", ACCESS_FILTER, 0, "", "relay:");
    check("REDIRECT other@example.com", ACCESS_REDIRECT, 0, "", "other@example.com");
    check("BCC archive@example.com", ACCESS_BCC, 0, "", "archive@example.com");
    check("PREPEND X-Checked: yes", ACCESS_PREPEND, 0, "", "X-Checked: yes");
    check("permit_mynetworks, reject", ACCESS_RESTRICTIONS, 0, "",
          "permit_mynetworks, reject");
    check("OKAY", ACCESS_RESTRICTIONS, 0, "", "OKAY");
    check("my_class ", ACCESS_RESTRICTIONS, 0, "", "my_class");
    assert_string_equal(access_action_name(ACCESS_FILTER), "FILTER");
    assert_string_equal(access_action_name(ACCESS_RESTRICTIONS), "restrictions");
}

static void test_bad_results(void **state)
{
    check_bad("", "empty access table result");
    check_bad("   ", "empty access table result");
    check_bad("FILTER", "FILTER requires an argument");
    check_bad("FILTER nocolon", "transport:destination");
    check_bad("FILTER :dest", "transport:destination");
    check_bad("REDIRECT", "REDIRECT requires an argument");
    check_bad("BCC ", "BCC requires an argument");
    check_bad("PREPEND no header", "PREPEND needs a header");
    check_bad("PREPEND : empty name", "PREPEND needs a header");
    check_bad("REJECT bad\r\nRCPT TO:<x>", "control character");
    check_bad("REJECT nul\001", "control character");
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_actions),
        cmocka_unit_test(test_reject_and_defer_actions),
        cmocka_unit_test(test_other_actions),
        cmocka_unit_test(test_bad_results),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

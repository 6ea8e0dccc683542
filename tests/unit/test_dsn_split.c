/* Unit tests for splitting a status code from its text (dsn_split.c). */
#include "unit.h"

#include "dsn_split.h"

static void test_split(void **state)
{
    strbuf *status = strbuf_new(8);
    strbuf *reason = strbuf_new(8);

    (void) state;
    assert_int_equal(dsn_split("5.1.1 no such user", "5.0.0", status, reason), 1);
    assert_string_equal(status->data, "5.1.1");
    assert_string_equal(reason->data, "no such user");
    assert_int_equal(dsn_split("4.2.0\t  try later", "4.0.0", status, reason), 1);
    assert_string_equal(status->data, "4.2.0");
    assert_string_equal(reason->data, "try later");
    assert_int_equal(dsn_split("5.7.1", "2.0.0", status, reason), 1);
    assert_string_equal(reason->data, "");
    /* no code, or something that only looks like one */
    assert_int_equal(dsn_split("user unknown", "5.0.0", status, reason), 0);
    assert_string_equal(status->data, "5.0.0");
    assert_string_equal(reason->data, "user unknown");
    assert_int_equal(dsn_split("6.1.1 bad class", "4.0.0", status, reason), 0);
    assert_string_equal(reason->data, "6.1.1 bad class");
    assert_int_equal(dsn_split("5.1.1x text", "4.0.0", status, reason), 0);
    assert_int_equal(dsn_split("5.1234.1 text", "4.0.0", status, reason), 0);
    assert_int_equal(dsn_split("", "4.0.0", status, reason), 0);
    assert_string_equal(status->data, "4.0.0");
    strbuf_free(status);
    strbuf_free(reason);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

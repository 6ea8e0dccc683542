/* Unit tests for child_proto: status records and the children's environment. */
#include "unit.h"

#include "argv.h"
#include "child_proto.h"

static void test_record_round_trip(void **state)
{
    char    record[CHILD_STATUS_SIZE];
    pid_t   pid;
    int     status;

    child_status_format(record, 4194303, CHILD_STATUS_BUSY);
    assert_memory_equal(record, "0004194303 B\n", CHILD_STATUS_SIZE);
    assert_int_equal(child_status_parse(record, sizeof(record), &pid, &status), 0);
    assert_int_equal(pid, 4194303);
    assert_int_equal(status, CHILD_STATUS_BUSY);
    child_status_format(record, 7, CHILD_STATUS_EXIT);
    assert_int_equal(child_status_parse(record, sizeof(record), &pid, &status), 0);
    assert_int_equal(pid, 7);
    assert_int_equal(status, CHILD_STATUS_EXIT);
}

static void expect_malformed(const char *text, size_t len)
{
    pid_t   pid = 99;
    int     status = 0;

    assert_int_equal(child_status_parse(text, len, &pid, &status), -1);
    assert_int_equal(pid, 99);
}

static void test_malformed_records(void **state)
{
    expect_malformed("0000000042 I\n", 12);     /* short */
    expect_malformed("0000000042 I\nX", 14);    /* long */
    expect_malformed("00000000x2 I\n", 13);     /* not a number */
    expect_malformed("0000000000 I\n", 13);     /* pid 0 */
    expect_malformed("9999999999 I\n", 13);     /* pid out of range */
    expect_malformed("0000000042 Q\n", 13);     /* unknown status */
    expect_malformed("0000000042-I\n", 13);     /* no separator */
    expect_malformed("0000000042 I\r", 13);     /* no newline */
    expect_malformed("-000000042 I\n", 13);     /* sign */
}

static void test_environment(void **state)
{
    argv_t *env;

    setenv("TZ", "UTC", 1);
    unsetenv("LANG");
    setenv("MAIL_CONFIG", "/elsewhere", 1);
    setenv("POSTERN_UNIT_SECRET", "x", 1);
    env = child_environment("MAIL_CONFIG TZ, LANG=C LANG POSTERN_LOG_FD=9", "/etc/p", 1);
    assert_int_equal(env->count, 4);
    assert_string_equal(env->items[0], "TZ=UTC");
    assert_string_equal(env->items[1], "LANG=C");
    assert_string_equal(env->items[2], "MAIL_CONFIG=/etc/p");
    assert_string_equal(env->items[3], "POSTERN_LOG_FD=4");
    assert_null(env->items[4]);
    argv_free(env);
    env = child_environment("", "/etc/q", 0);
    assert_int_equal(env->count, 1);
    assert_string_equal(env->items[0], "MAIL_CONFIG=/etc/q");
    argv_free(env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_round_trip),
        cmocka_unit_test(test_malformed_records),
        cmocka_unit_test(test_environment),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

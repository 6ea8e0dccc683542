/*
 * Unit tests for command_run and sys_exits: exit statuses and their
 * meaning, output capture and bounds, the time limit, a command that
 * writes much while the message is still being fed, and root refusal.
 */
#include "unit.h"

#include <signal.h>
#include <sysexits.h>
#include <time.h>

#include "command_run.h"
#include "sys_exits.h"

static char *const env[] = {"PATH=/usr/bin:/bin", NULL};

typedef struct feed {
    size_t  bytes;
} feed;

static int write_bytes(stream *to_child, void *context)
{
    feed   *f = context;

    for (size_t i = 0; i < f->bytes; i++)
        stream_putc(to_child, i % 64 == 63 ? '\n' : 'x');
    return stream_flush(to_child);
}

static void run_shell(const char *script, size_t input, int limit, command_result *res)
{
    char   *argv[] = {"/bin/sh", "-c", (char *) script, NULL};
    feed    f = {.bytes = input };
    command_spec spec = {.argv = argv,.env = env,.cwd = "/",.uid = 65534,.gid = 65534,
        .time_limit = limit,.write_input = write_bytes,.context = &f };

    command_run(&spec, res);
}

static void test_exit_statuses(void **state)
{
    command_result res;
    strbuf *reason = strbuf_new(64);
    char    dsn[16];

    (void) state;
    run_shell("cat >/dev/null; exit 0", 1000, 10, &res);
    assert_int_equal(command_outcome(&res, "cmd", dsn, reason), COMMAND_SENT);
    command_result_free(&res);
    run_shell("echo nobody here; exit 67", 10, 10, &res);
    assert_int_equal(command_outcome(&res, "cmd", dsn, reason), COMMAND_BOUNCE);
    assert_string_equal(dsn, "5.1.1");
    assert_string_equal(reason->data, "user unknown. Command output: nobody here ");
    command_result_free(&res);
    run_shell("exit 75", 10, 10, &res);
    assert_int_equal(command_outcome(&res, "cmd", dsn, reason), COMMAND_DEFER);
    assert_string_equal(reason->data, "temporary failure");
    command_result_free(&res);
    run_shell("exit 3", 10, 10, &res);
    assert_int_equal(command_outcome(&res, "cmd", dsn, reason), COMMAND_BOUNCE);
    assert_string_equal(reason->data, "Command died with status 3: \"cmd\"");
    command_result_free(&res);
    run_shell("kill -TERM $$", 10, 10, &res);
    assert_int_equal(command_outcome(&res, "cmd", dsn, reason), COMMAND_DEFER);
    assert_string_equal(reason->data, "Command died with signal 15: \"cmd\"");
    command_result_free(&res);
    strbuf_free(reason);
}

static void test_output_bounded_and_sanitized(void **state)
{
    command_result res;
    strbuf *reason = strbuf_new(64);
    char    dsn[16];

    (void) state;
    run_shell("printf 'a\\r\\nInjected\\000x'; head -c 100000 /dev/zero | tr '\\0' y; exit 65",
              10, 10, &res);
    assert_true(res.output->len <= COMMAND_OUTPUT_MAX);
    assert_int_equal(command_outcome(&res, "cmd", dsn, reason), COMMAND_BOUNCE);
    assert_true(strncmp(reason->data, "data format error. Command output: a  Injected x", 48) == 0);
    assert_null(memchr(reason->data, '\n', reason->len));
    command_result_free(&res);
    strbuf_free(reason);
}

static void test_no_deadlock_when_command_talks_first(void **state)
{
    command_result res;

    (void) state;
    run_shell("head -c 300000 /dev/zero; cat >/dev/null; exit 0", 2000000, 20, &res);
    assert_int_equal(res.status, COMMAND_EXITED);
    assert_int_equal(res.exit_status, 0);
    command_result_free(&res);
}

static void test_time_limit(void **state)
{
    command_result res;
    strbuf *reason = strbuf_new(64);
    char    dsn[16];
    time_t  start = time(NULL);

    (void) state;
    run_shell("sleep 30 & sleep 30", 10, 1, &res);
    assert_true(time(NULL) - start < 10);
    assert_int_equal(res.status, COMMAND_TIMEOUT);
    assert_int_equal(command_outcome(&res, "slow", dsn, reason), COMMAND_BOUNCE);
    assert_string_equal(reason->data, "Command time limit exceeded: \"slow\"");
    command_result_free(&res);
    strbuf_free(reason);
}

static void test_missing_command_and_root(void **state)
{
    char   *argv[] = {"/nonexistent/program", NULL};
    command_spec spec = {.argv = argv,.env = env,.uid = 65534,.gid = 65534,.time_limit = 10 };
    command_result res;
    strbuf *reason = strbuf_new(64);
    char    dsn[16];

    (void) state;
    command_run(&spec, &res);
    assert_int_equal(res.exit_status, EX_UNAVAILABLE);
    assert_int_equal(command_outcome(&res, "x", dsn, reason), COMMAND_BOUNCE);
    assert_non_null(strstr(reason->data, "No such file or directory"));
    command_result_free(&res);
    if (getuid() == 0) {
        char   *id[] = {"/usr/bin/id", NULL};

        spec.argv = id;
        spec.uid = 0;
        spec.gid = 0;
        command_run(&spec, &res);
        assert_int_equal(res.exit_status, EX_CONFIG);
        assert_non_null(strstr(res.output->data, "refusing to run a delivery command as root"));
        command_result_free(&res);
    }
    strbuf_free(reason);
}

static void test_sys_exits_table(void **state)
{
    (void) state;
    assert_string_equal(sys_exits_find(EX_NOUSER)->dsn, "5.1.1");
    assert_string_equal(sys_exits_find(EX_CONFIG)->text, "local configuration error");
    assert_true(sys_exits_soft(EX_TEMPFAIL));
    assert_true(sys_exits_soft(EX_OSERR));
    assert_false(sys_exits_soft(EX_NOPERM));
    assert_null(sys_exits_find(1));
    assert_null(sys_exits_find(79));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_statuses),
        cmocka_unit_test(test_output_bounded_and_sanitized),
        cmocka_unit_test(test_no_deadlock_when_command_talks_first),
        cmocka_unit_test(test_time_limit),
        cmocka_unit_test(test_missing_command_and_root),
        cmocka_unit_test(test_sys_exits_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

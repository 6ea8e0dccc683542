/* Unit tests for instance_lock (master.pid, master.lock) and maillog paths. */
#include "unit.h"

#include <signal.h>
#include <sys/wait.h>

#include "instance_lock.h"
#include "maillog.h"
#include "strbuf.h"

/* Makes DIR/name/spool/pid and DIR/name/data; returns DIR/name. */
static const char *make_instance_dirs(const char *name, strbuf *queue, strbuf *data)
{
    static char top[512];

    snprintf(top, sizeof(top), "%s/%s", unit_temp_dir(), name);
    mkdir(top, 0755);
    strbuf_printf(queue, "%s/spool", top);
    strbuf_printf(data, "%s/data", top);
    mkdir(queue->data, 0755);
    mkdir(data->data, 0700);
    strbuf_append_str(queue, "/pid");
    mkdir(queue->data, 0755);
    strbuf_truncate(queue, queue->len - 4);
    return top;
}

static void read_file(const char *path, char *buf, size_t size)
{
    FILE   *fp = fopen(path, "r");
    size_t  n;

    assert_non_null(fp);
    n = fread(buf, 1, size - 1, fp);
    buf[n] = 0;
    fclose(fp);
}

/* A child takes the locks and waits; the parent looks from outside. */
static void test_lock_seen_by_others(void **state)
{
    strbuf *queue = strbuf_new(64);
    strbuf *data = strbuf_new(64);
    strbuf *why = strbuf_new(64);
    char    path[600];
    char    text[64];
    char    expected[64];
    int     ready[2];
    pid_t   child;
    pid_t   pid;
    char    byte;
    int     status;

    make_instance_dirs("a", queue, data);
    assert_int_equal(instance_running(queue->data, data->data, &pid), 0);
    assert_int_equal(pipe(ready), 0);
    if ((child = fork()) == 0) {
        if (instance_lock_acquire(queue->data, data->data, getuid(), getgid(), why) < 0)
            _exit(1);
        (void) write(ready[1], "R", 1);
        pause();
        _exit(0);
    }
    assert_int_equal(read(ready[0], &byte, 1), 1);
    assert_int_equal(instance_running(queue->data, data->data, &pid), 1);
    assert_int_equal(pid, child);
    snprintf(path, sizeof(path), "%s/pid/master.pid", queue->data);
    read_file(path, text, sizeof(text));
    snprintf(expected, sizeof(expected), "%32ld\n", (long) child);
    assert_string_equal(text, expected);
    snprintf(path, sizeof(path), "%s/master.lock", data->data);
    read_file(path, text, sizeof(text));
    assert_string_equal(text, expected);
    assert_int_equal(instance_lock_acquire(queue->data, data->data, getuid(), getgid(), why), -1);
    assert_non_null(strstr(why->data, "master.lock: unable to set exclusive lock: "
                           "is locked by another process"));
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    assert_int_equal(instance_running(queue->data, data->data, &pid), 0);
    strbuf_free(queue);
    strbuf_free(data);
    strbuf_free(why);
}

static void test_acquire_and_release(void **state)
{
    strbuf *queue = strbuf_new(64);
    strbuf *data = strbuf_new(64);
    strbuf *why = strbuf_new(64);
    char    path[600];
    pid_t   pid;

    make_instance_dirs("b", queue, data);
    assert_int_equal(instance_lock_acquire(queue->data, data->data, getuid(), getgid(), why), 0);
    snprintf(path, sizeof(path), "%s/pid/master.pid", queue->data);
    assert_int_equal(access(path, F_OK), 0);
    instance_lock_release();
    assert_int_equal(access(path, F_OK), -1);
    /* master.lock stays locked until the process exits */
    assert_int_equal(instance_running(queue->data, data->data, &pid), 1);
    assert_int_equal(pid, getpid());
    strbuf_free(queue);
    strbuf_free(data);
    strbuf_free(why);
}

static void test_planted_symlink_refused(void **state)
{
    strbuf *queue = strbuf_new(64);
    strbuf *data = strbuf_new(64);
    strbuf *why = strbuf_new(64);
    char    link_path[600];
    char    target[600];

    make_instance_dirs("c", queue, data);
    snprintf(target, sizeof(target), "%s/victim", unit_temp_dir());
    unit_temp_file("victim", "do not touch\n");
    snprintf(link_path, sizeof(link_path), "%s/master.lock", data->data);
    assert_int_equal(symlink(target, link_path), 0);
    assert_int_equal(instance_lock_acquire(queue->data, data->data, getuid(), getgid(), why), -1);
    assert_non_null(strstr(why->data, "symbolic link"));
    read_file(target, link_path, sizeof(link_path));
    assert_string_equal(link_path, "do not touch\n");
    strbuf_free(queue);
    strbuf_free(data);
    strbuf_free(why);
}

static void test_maillog_paths(void **state)
{
    strbuf *why = strbuf_new(64);

    assert_int_equal(maillog_path_allowed("/var/log/mail.log", "/var, /dev/stdout", why), 0);
    assert_int_equal(maillog_path_allowed("/dev/stdout", "/var, /dev/stdout", why), 0);
    assert_int_equal(maillog_path_allowed("/var/log/..hidden", "/var", why), 0);
    assert_int_equal(maillog_path_allowed("/tmp/mail.log", "/var, /dev/stdout", why), -1);
    assert_string_equal(why->data, "maillog_file \"/tmp/mail.log\" does not match any prefix "
                        "in maillog_file_prefixes (/var, /dev/stdout)");
    assert_int_equal(maillog_path_allowed("/var/../etc/passwd", "/var", why), -1);
    assert_non_null(strstr(why->data, "without \"..\""));
    assert_int_equal(maillog_path_allowed("/var/log/..", "/var", why), -1);
    assert_int_equal(maillog_path_allowed("var/log/x", "var", why), -1);
    assert_int_equal(maillog_path_allowed("/var/log/x", "", why), -1);
    strbuf_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock_seen_by_others),
        cmocka_unit_test(test_acquire_and_release),
        cmocka_unit_test(test_planted_symlink_refused),
        cmocka_unit_test(test_maillog_paths),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for safe_open, msg's log file format, and descriptor passing. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <sys/socket.h>

#include "msg.h"
#include "safe_open.h"
#include "sock.h"
#include "strbuf.h"

static const char *path_in_temp(const char *name)
{
    static char path[512];

    snprintf(path, sizeof(path), "%s/%s", unit_temp_dir(), name);
    return path;
}

static void test_creates_missing_file(void **state)
{
    strbuf *why = strbuf_new(32);
    struct stat st;
    const char *path = path_in_temp("new-mailbox");
    int     fd = safe_open(path, O_WRONLY | O_APPEND | O_CREAT, 0600, getuid(), getgid(), &st, why);

    assert_true(fd >= 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_uid, getuid());
    close(fd);
    fd = safe_open(path, O_WRONLY | O_APPEND | O_CREAT, 0600, getuid(), getgid(), &st, why);
    assert_true(fd >= 0);                       /* existing, same owner: fine */
    close(fd);
    strbuf_free(why);
}

static void test_refuses_symlink(void **state)
{
    strbuf *why = strbuf_new(32);
    const char *target = unit_temp_file("secret", "do not touch\n");
    char    link_path[512];

    snprintf(link_path, sizeof(link_path), "%s", path_in_temp("linked-mailbox"));
    assert_int_equal(symlink(target, link_path), 0);
    assert_int_equal(safe_open(link_path, O_WRONLY | O_APPEND | O_CREAT, 0600,
                               (uid_t) -1, (gid_t) -1, NULL, why), -1);
    assert_non_null(strstr(why->data, "symbolic link"));
    strbuf_free(why);
}

static void test_refuses_hard_link(void **state)
{
    strbuf *why = strbuf_new(32);
    char    target[512];
    char    link_path[512];

    snprintf(target, sizeof(target), "%s", unit_temp_file("original", "x\n"));
    snprintf(link_path, sizeof(link_path), "%s", path_in_temp("hard-linked"));
    assert_int_equal(link(target, link_path), 0);
    assert_int_equal(safe_open(link_path, O_WRONLY | O_APPEND, 0600, (uid_t) -1,
                               (gid_t) -1, NULL, why), -1);
    assert_non_null(strstr(why->data, "hard links"));
    strbuf_free(why);
}

static void test_refuses_wrong_owner_and_non_regular(void **state)
{
    strbuf *why = strbuf_new(32);
    const char *path = unit_temp_file("owned", "x\n");

    assert_int_equal(safe_open(path, O_WRONLY | O_APPEND, 0600, getuid() + 1,
                               (gid_t) -1, NULL, why), -1);
    assert_non_null(strstr(why->data, "wrong owner"));
    assert_int_equal(safe_open(unit_temp_dir(), O_RDONLY, 0600, (uid_t) -1,
                               (gid_t) -1, NULL, why), -1);
    assert_non_null(strstr(why->data, "not a regular file"));
    assert_int_equal(safe_open(path_in_temp("absent"), O_WRONLY, 0600, (uid_t) -1,
                               (gid_t) -1, NULL, why), -1);
    assert_int_equal(errno, ENOENT);
    strbuf_free(why);
}

static void test_logfile_line_format(void **state)
{
    const char *path = path_in_temp("maillog");
    strbuf *text = strbuf_new(256);
    char    buf[1024];
    regex_t re;
    ssize_t n;
    int     fd;

    msg_open("postfix/unittest", 0);
    msg_set_log_hostname("mx.example.test");
    assert_int_equal(msg_logfile_open(path), 0);
    msg_info("hello %s", "world");
    msg_warn("bad\r\ninjected: line");
    fd = open(path, O_RDONLY);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    assert_true(n > 0);
    buf[n] = 0;
    assert_int_equal(regcomp(&re, "^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} "
                             "mx postfix/unittest\\[[0-9]+\\]: hello world\n"
                             "[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [^ ]+ "
                             "postfix/unittest\\[[0-9]+\\]: warning: bad\\?\\?injected: line\n$",
                             REG_EXTENDED), 0);
    if (regexec(&re, buf, 0, NULL, 0) != 0)
        fail_msg("unexpected log text: %s", buf);
    regfree(&re);
    msg_logfile_use_fd(-1);
    strbuf_free(text);
}

static void test_descriptor_passing(void **state)
{
    int     pair[2];
    int     fd;
    char    byte;
    const char *path = unit_temp_file("passed", "Z");

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    fd = open(path, O_RDONLY);
    assert_int_equal(sock_send_fd(pair[0], fd), 0);
    close(fd);
    fd = sock_recv_fd(pair[1]);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, &byte, 1), 1);
    assert_int_equal(byte, 'Z');
    close(fd);
    assert_int_equal(write(pair[0], "x", 1), 1);        /* no descriptor attached */
    assert_int_equal(sock_recv_fd(pair[1]), -1);
    close(pair[0]);
    close(pair[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_creates_missing_file),
        cmocka_unit_test(test_refuses_symlink),
        cmocka_unit_test(test_refuses_hard_link),
        cmocka_unit_test(test_refuses_wrong_owner_and_non_regular),
        cmocka_unit_test(test_logfile_line_format),
        cmocka_unit_test(test_descriptor_passing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

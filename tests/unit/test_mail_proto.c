/* Unit tests for mail_proto: connecting to and triggering services. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "mail_params.h"
#include "mail_proto.h"
#include "sock.h"
#include "strbuf.h"
#include "stream.h"

static char queue[512];

static const char *queue_path(const char *top, const char *rest)
{
    static char path[700];

    snprintf(path, sizeof(path), "%s/%s", top, rest);
    return path;
}

static int setup(void **state)
{
    snprintf(queue, sizeof(queue), "%s/queue", unit_temp_dir());
    mkdir(queue, 0755);
    mkdir(queue_path(queue, "private"), 0700);
    mkdir(queue_path(queue, "public"), 0710);
    var_queue_directory = queue;
    var_ipc_timeout = 5;
    var_trigger_timeout = 5;
    return 0;
}

static void test_connect(void **state)
{
    int     listener = unix_listen(queue_path(queue, "private/svc"), 5, 0666);
    strbuf *line = strbuf_new(64);
    stream *client;
    int     server;

    assert_true(listener >= 0);
    client = mail_connect(MAIL_CLASS_PRIVATE, "svc", 5);
    assert_non_null(client);
    assert_int_equal(client->timeout, 5);
    server = accept(listener, NULL, NULL);
    assert_true(server >= 0);
    assert_int_equal(write(server, "hello\n", 6), 6);
    assert_int_equal(stream_get_line(client, line, 100), STREAM_LINE_COMPLETE);
    assert_string_equal(line->data, "hello\n");
    stream_close(client);
    close(server);
    close(listener);
    strbuf_free(line);
}

static void test_connect_failures(void **state)
{
    errno = 0;
    assert_null(mail_connect(MAIL_CLASS_PUBLIC, "nobody-listens", 5));
    assert_int_equal(errno, ENOENT);
    assert_null(mail_connect(MAIL_CLASS_PRIVATE, "../public/x", 5));
    assert_int_equal(errno, EINVAL);
    assert_null(mail_connect("private/..", "x", 5));
    assert_int_equal(errno, EINVAL);
    assert_null(mail_connect(MAIL_CLASS_PRIVATE, "", 5));
    assert_int_equal(errno, EINVAL);
    assert_null(mail_connect(MAIL_CLASS_PRIVATE, "..", 5));
    assert_int_equal(errno, EINVAL);
}

static void test_trigger_fifo(void **state)
{
    int     fifo = fifo_listen(queue_path(queue, "public/pickup"), 0622);
    char    buf[16];

    assert_true(fifo >= 0);
    assert_int_equal(mail_trigger(MAIL_CLASS_PUBLIC, "pickup", "W", 1), 0);
    assert_int_equal(read(fifo, buf, sizeof(buf)), 1);
    assert_int_equal(buf[0], 'W');
    close(fifo);
}

static void test_trigger_socket(void **state)
{
    int     listener = unix_listen(queue_path(queue, "public/qmgr"), 5, 0666);
    char    buf[16];
    int     server;

    assert_true(listener >= 0);
    assert_int_equal(mail_trigger(MAIL_CLASS_PUBLIC, "qmgr", "AB", 2), 0);
    server = accept(listener, NULL, NULL);
    assert_true(server >= 0);
    assert_int_equal(read(server, buf, sizeof(buf)), 2);
    assert_memory_equal(buf, "AB", 2);
    assert_int_equal(read(server, buf, sizeof(buf)), 0);    /* trigger closed */
    close(server);
    close(listener);
}

static void test_trigger_failures(void **state)
{
    int     fd = open(queue_path(queue, "public/plain"), O_CREAT | O_WRONLY, 0644);

    close(fd);
    assert_int_equal(mail_trigger(MAIL_CLASS_PUBLIC, "plain", "W", 1), -1);
    assert_int_equal(errno, ENOTSOCK);
    assert_int_equal(mail_trigger(MAIL_CLASS_PUBLIC, "absent", "W", 1), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(mail_trigger(MAIL_CLASS_PUBLIC, "a/b", "W", 1), -1);
    assert_int_equal(errno, EINVAL);
}

/* A chrooted daemon sees the queue as "/": paths follow the root set. */
static void test_queue_root(void **state)
{
    char    other[600];
    int     listener;
    stream *client;

    snprintf(other, sizeof(other), "%s/jail", unit_temp_dir());
    mkdir(other, 0755);
    mkdir(queue_path(other, "private"), 0700);
    listener = unix_listen(queue_path(other, "private/rewrite"), 5, 0666);
    assert_true(listener >= 0);
    assert_null(mail_connect(MAIL_CLASS_PRIVATE, "rewrite", 5));
    mail_proto_set_root(other);
    client = mail_connect(MAIL_CLASS_PRIVATE, "rewrite", 5);
    assert_non_null(client);
    stream_close(client);
    close(listener);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_connect, setup),
        cmocka_unit_test_setup(test_connect_failures, setup),
        cmocka_unit_test_setup(test_trigger_fifo, setup),
        cmocka_unit_test_setup(test_trigger_socket, setup),
        cmocka_unit_test_setup(test_trigger_failures, setup),
        cmocka_unit_test_setup(test_queue_root, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

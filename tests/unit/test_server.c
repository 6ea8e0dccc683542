/*
 * Unit tests for the daemon skeleton. Each test plays master: it creates
 * the listening socket (or fifo), the status pipe and the log file, forks,
 * puts them on descriptors 5, 3 and 4 as master does and runs a
 * *_server_main() in the child; then it talks to the child as a client and
 * reads the status records master would read.
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <event2/event.h>

#include "child_proto.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "server.h"
#include "sock.h"
#include "strbuf.h"
#include "stream.h"

#define WAIT_SECONDS  5

typedef void (*server_main_fn)(int, char **, const server_spec *) __attribute__((noreturn));

typedef struct fake_child {
    pid_t   pid;
    int     status_fd;                  /* master's end of the status pipe */
    int     listen_fd;                  /* the test's copy of the endpoint */
    char    path[600];                  /* endpoint path */
    char    log[600];                   /* log file */
} fake_child;

/* Callbacks: they run in the child ---------------------------------------- */

static const char *option_value = "none";

static void option_x(const char *argument)
{
    option_value = argument;
}

static const server_option test_options[] = {{'x', 1, option_x}, {0, 0, NULL}};

/* Replies to one line: "NAME TYPE ARGC ARG0 OPTION: LINE". */
static void echo_service(stream *client, const server_ctx *ctx)
{
    strbuf *line = strbuf_new(64);

    if (stream_get_line(client, line, 100) == STREAM_LINE_COMPLETE) {
        msg_info("served %.*s", (int) line->len - 1, line->data);
        stream_printf(client, "%s %s %zu %s %s: %s", ctx->service_name, ctx->service_type,
                      ctx->arg_count, ctx->arg_count ? ctx->args[0] : "-", option_value,
                      line->data);
        stream_flush(client);
    }
    strbuf_free(line);
}

static void multi_echo(stream *client, const server_ctx *ctx)
{
    strbuf *line = strbuf_new(64);

    if (stream_get_line(client, line, 100) != STREAM_LINE_COMPLETE) {
        multi_server_disconnect(client);
    } else {
        stream_printf(client, "%ld: %s", (long) getpid(), line->data);
        stream_flush(client);
    }
    strbuf_free(line);
}

static void timer_fired(evutil_socket_t fd, short what, void *context)
{
    msg_info("timer fired");
}

static void add_timer(const server_ctx *ctx)
{
    struct timeval tv = {.tv_sec = 0,.tv_usec = 100000 };
    struct event *timer = evtimer_new(server_event_base(), timer_fired, NULL);

    evtimer_add(timer, &tv);
}

static void log_trigger(const char *data, size_t len, const server_ctx *ctx)
{
    msg_info("trigger %.*s for %s", (int) len, data, ctx->service_name);
}

static void leave_at_once(const server_ctx *ctx)
{
    msg_info("pre-accept: asking to exit");
    server_exit_when_idle();
}

static void report_identity(const server_ctx *ctx)
{
    msg_info("post-init: cwd is queue_directory: %s",
             access("queue-marker", F_OK) == 0 ? "yes" : "no");
}

/* Fake master ---------------------------------------------------------------- */

static int endpoint_counter;

static int setup(void **state)
{
    strbuf *config = strbuf_new(256);

    strbuf_printf(config, "queue_directory = %s/queue\nmax_idle = 100s\n", unit_temp_dir());
    unit_temp_file("main.cf", config->data);
    strbuf_printf(config, "%s/queue", unit_temp_dir());
    mkdir(config->data, 0755);
    strbuf_append_str(config, "/public");
    mkdir(config->data, 0755);
    unit_temp_file("queue/queue-marker", "");
    strbuf_free(config);
    return 0;
}

/* Opens the endpoint the child will serve: a fifo or a unix socket. */
static void open_endpoint(fake_child *fc, const char *type, const char *name)
{
    if (name)
        snprintf(fc->path, sizeof(fc->path), "%s/queue/public/%s", unit_temp_dir(), name);
    else
        snprintf(fc->path, sizeof(fc->path), "%s/ep%d", unit_temp_dir(), ++endpoint_counter);
    if (strcmp(type, "fifo") == 0)
        fc->listen_fd = fifo_listen(fc->path, 0622);
    else if (strcmp(type, "unix-dgram") == 0)
        fc->listen_fd = unix_dgram_listen(fc->path, 0666);
    else
        fc->listen_fd = unix_listen(fc->path, 10, 0666);
    assert_true(fc->listen_fd >= 0);
}

static void run_child(fake_child *fc, int status_fd, int log_fd, server_main_fn main_fn,
                      const server_spec *spec, const char *type, const char *const *args,
                      int with_listener) __attribute__((noreturn));

static void run_child(fake_child *fc, int status_fd, int log_fd, server_main_fn main_fn,
                      const server_spec *spec, const char *type, const char *const *args,
                      int with_listener)
{
    char   *argv[32] = {"testd", "-t", (char *) type};
    int     argc = 3;
    int     listen_fd;

    setenv("MAIL_CONFIG", unit_temp_dir(), 1);
    unit_dir[0] = 0;                    /* the parent cleans up, not us */
    status_fd = fcntl(status_fd, F_DUPFD, 100);  /* out of the targets' way */
    log_fd = fcntl(log_fd, F_DUPFD, 100);
    listen_fd = fcntl(fc->listen_fd, F_DUPFD, 100);
    dup2(status_fd, CHILD_STATUS_FD);
    dup2(log_fd, CHILD_LOG_FD);
    if (with_listener)
        dup2(listen_fd, CHILD_LISTEN_FD);
    else
        close(CHILD_LISTEN_FD);
    close_range(CHILD_LISTEN_FD + 1, ~0U, 0);
    setenv(CHILD_ENV_LOG_FD, "4", 1);
    for (int i = 0; args && args[i] && argc < 31; i++)
        argv[argc++] = (char *) args[i];
    argv[argc] = NULL;
    main_fn(argc, argv, spec);
}

static void start_child_on(fake_child *fc, server_main_fn main_fn, const server_spec *spec,
                           const char *type, const char *const *args, int with_listener)
{
    int     status[2];
    int     log_fd;

    snprintf(fc->log, sizeof(fc->log), "%s/log%d", unit_temp_dir(), ++endpoint_counter);
    log_fd = open(fc->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    assert_true(log_fd >= 0);
    assert_int_equal(pipe(status), 0);
    fc->pid = fork();
    assert_true(fc->pid >= 0);
    if (fc->pid == 0)
        run_child(fc, status[1], log_fd, main_fn, spec, type, args, with_listener);
    close(status[1]);
    close(log_fd);
    fc->status_fd = status[0];
}

static void start_child(fake_child *fc, server_main_fn main_fn, const server_spec *spec,
                        const char *type, const char *const *args)
{
    open_endpoint(fc, type, NULL);
    start_child_on(fc, main_fn, spec, type, args, 1);
}

static void stop_child(fake_child *fc)
{
    int     status;

    kill(fc->pid, SIGKILL);
    waitpid(fc->pid, &status, 0);
    close(fc->status_fd);
    close(fc->listen_fd);
}

/* Waits for the child to exit; returns its exit status. */
static int wait_exit(fake_child *fc)
{
    int     status;

    for (int i = 0; i < WAIT_SECONDS * 100; i++) {
        if (waitpid(fc->pid, &status, WNOHANG) == fc->pid) {
            assert_true(WIFEXITED(status));
            close(fc->status_fd);
            close(fc->listen_fd);
            return WEXITSTATUS(status);
        }
        poll(NULL, 0, 10);
    }
    fail_msg("child %ld did not exit", (long) fc->pid);
    return -1;
}

static void expect_status(fake_child *fc, int expected)
{
    struct pollfd pfd = {.fd = fc->status_fd,.events = POLLIN };
    char    record[CHILD_STATUS_SIZE];
    pid_t   pid;
    int     status;

    assert_int_equal(poll(&pfd, 1, WAIT_SECONDS * 1000), 1);
    assert_int_equal(read(fc->status_fd, record, sizeof(record)), sizeof(record));
    assert_int_equal(child_status_parse(record, sizeof(record), &pid, &status), 0);
    assert_int_equal(pid, fc->pid);
    assert_int_equal(status, expected);
}

static void expect_no_status(fake_child *fc, int milliseconds)
{
    struct pollfd pfd = {.fd = fc->status_fd,.events = POLLIN };

    assert_int_equal(poll(&pfd, 1, milliseconds), 0);
}

static int log_contains(fake_child *fc, const char *text)
{
    strbuf *data = strbuf_new(1024);
    char    buf[4096];
    ssize_t n;
    int     fd = open(fc->log, O_RDONLY);
    int     found;

    while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
        strbuf_append(data, buf, (size_t) n);
    if (fd >= 0)
        close(fd);
    found = strstr(data->data, text) != NULL;
    strbuf_free(data);
    return found;
}

static void wait_log(fake_child *fc, const char *text)
{
    for (int i = 0; i < WAIT_SECONDS * 100; i++) {
        if (log_contains(fc, text))
            return;
        poll(NULL, 0, 10);
    }
    fail_msg("log %s lacks \"%s\"", fc->log, text);
}

static int connect_to(fake_child *fc)
{
    int     fd = unix_connect(fc->path, WAIT_SECONDS);

    assert_true(fd >= 0);
    return fd;
}

/* Sends a line on fd and returns the reply line (static storage). */
static const char *ask(int fd, const char *line)
{
    static char reply[256];
    size_t  len = 0;

    assert_int_equal(write(fd, line, strlen(line)), (ssize_t) strlen(line));
    while (len < sizeof(reply) - 1) {
        struct pollfd pfd = {.fd = fd,.events = POLLIN };
        ssize_t n;

        assert_int_equal(poll(&pfd, 1, WAIT_SECONDS * 1000), 1);
        if ((n = read(fd, reply + len, 1)) <= 0)
            break;
        if (reply[len++] == '\n')
            break;
    }
    reply[len] = 0;
    return reply;
}

/* Tests ------------------------------------------------------------------------ */

static void test_single_server(void **state)
{
    static const server_spec spec = {
        .service = echo_service,.post_init = report_identity,.options = test_options,
    };
    fake_child fc;
    char    ident[64];
    int     fd;

    start_child(&fc, single_server_main, &spec, "unix", (const char *const[]) {
        "-n", "echo", "-x", "opt", "-o", "syslog_name=postern/$service_name", "extra",
        "-f", NULL});
    fd = connect_to(&fc);
    assert_string_equal(ask(fd, "hi\n"), "echo unix 2 extra opt: hi\n");
    expect_status(&fc, CHILD_STATUS_BUSY);
    close(fd);
    expect_status(&fc, CHILD_STATUS_IDLE);
    fd = connect_to(&fc);
    assert_string_equal(ask(fd, "again\n"), "echo unix 2 extra opt: again\n");
    close(fd);
    expect_status(&fc, CHILD_STATUS_BUSY);
    expect_status(&fc, CHILD_STATUS_IDLE);
    snprintf(ident, sizeof(ident), "postern/echo/testd[%ld]: served again", (long) fc.pid);
    wait_log(&fc, ident);
    wait_log(&fc, "post-init: cwd is queue_directory: yes");
    stop_child(&fc);
}

static void test_single_server_max_use(void **state)
{
    static const server_spec spec = {.service = echo_service };
    fake_child fc;
    int     fd;

    start_child(&fc, single_server_main, &spec, "unix",
                (const char *const[]) {"-o", "max_use=2", NULL});
    for (int i = 0; i < 2; i++) {
        fd = connect_to(&fc);
        assert_string_equal(ask(fd, "x\n"), "testd unix 0 - none: x\n");
        close(fd);
    }
    expect_status(&fc, CHILD_STATUS_BUSY);
    expect_status(&fc, CHILD_STATUS_IDLE);
    expect_status(&fc, CHILD_STATUS_BUSY);
    expect_status(&fc, CHILD_STATUS_EXIT);
    assert_int_equal(wait_exit(&fc), 0);
}

static void test_resident_ignores_limits(void **state)
{
    static const server_spec spec = {.service = echo_service,.flags = SERVER_FLAG_RESIDENT };
    fake_child fc;
    int     fd;

    start_child(&fc, single_server_main, &spec, "unix",
                (const char *const[]) {"-o", "max_use=1", "-o", "max_idle=1", NULL});
    for (int i = 0; i < 2; i++) {
        fd = connect_to(&fc);
        assert_string_equal(ask(fd, "x\n"), "testd unix 0 - none: x\n");
        close(fd);
        expect_status(&fc, CHILD_STATUS_BUSY);
        expect_status(&fc, CHILD_STATUS_IDLE);
    }
    expect_no_status(&fc, 1500);
    assert_int_equal(kill(fc.pid, 0), 0);
    stop_child(&fc);
}

static void test_idle_exit(void **state)
{
    static const server_spec spec = {.service = echo_service };
    fake_child fc;
    time_t  started = time(NULL);

    start_child(&fc, single_server_main, &spec, "unix",
                (const char *const[]) {"-o", "max_idle=1", NULL});
    expect_status(&fc, CHILD_STATUS_EXIT);
    assert_int_equal(wait_exit(&fc), 0);
    assert_true(time(NULL) - started >= 1);
}

static void test_master_gone(void **state)
{
    static const server_spec spec = {.service = echo_service };
    fake_child fc;
    int     fd;

    start_child(&fc, single_server_main, &spec, "unix", NULL);
    fd = connect_to(&fc);
    assert_string_equal(ask(fd, "x\n"), "testd unix 0 - none: x\n");
    close(fd);
    expect_status(&fc, CHILD_STATUS_BUSY);
    expect_status(&fc, CHILD_STATUS_IDLE);
    close(fc.status_fd);
    fc.status_fd = open("/dev/null", O_RDONLY);
    assert_int_equal(wait_exit(&fc), 0);
}

static void test_pre_accept_leaves_client(void **state)
{
    static const server_spec spec = {.service = echo_service,.pre_accept = leave_at_once };
    fake_child fc;
    int     client;
    int     waiting;
    int     listen_fd;

    start_child(&fc, single_server_main, &spec, "unix", NULL);
    listen_fd = dup(fc.listen_fd);
    client = connect_to(&fc);
    expect_status(&fc, CHILD_STATUS_EXIT);
    assert_int_equal(wait_exit(&fc), 0);
    assert_true(log_contains(&fc, "pre-accept: asking to exit"));
    waiting = accept(listen_fd, NULL, NULL);    /* still queued for the next process */
    assert_true(waiting >= 0);
    close(waiting);
    close(client);
    close(listen_fd);
}

static void test_passed_connection(void **state)
{
    static const server_spec spec = {.service = echo_service };
    fake_child fc;
    int     pair[2];
    int     channel;

    start_child(&fc, single_server_main, &spec, "pass", NULL);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    channel = connect_to(&fc);
    assert_int_equal(sock_send_fd(channel, pair[1]), 0);
    close(pair[1]);
    assert_string_equal(ask(pair[0], "passed\n"), "testd pass 0 - none: passed\n");
    close(pair[0]);
    close(channel);
    stop_child(&fc);
}

static void test_multi_server(void **state)
{
    static const server_spec spec = {.service = multi_echo,.post_init = add_timer };
    fake_child fc;
    char    expected[64];
    int     first;
    int     second;

    start_child(&fc, multi_server_main, &spec, "unix", NULL);
    first = connect_to(&fc);
    second = connect_to(&fc);
    snprintf(expected, sizeof(expected), "%ld: a\n", (long) fc.pid);
    assert_string_equal(ask(first, "a\n"), expected);
    snprintf(expected, sizeof(expected), "%ld: b\n", (long) fc.pid);
    assert_string_equal(ask(second, "b\n"), expected);
    snprintf(expected, sizeof(expected), "%ld: c\n", (long) fc.pid);
    assert_string_equal(ask(first, "c\n"), expected);
    for (int i = 0; i < 3; i++) {
        expect_status(&fc, CHILD_STATUS_BUSY);
        expect_status(&fc, CHILD_STATUS_IDLE);
    }
    close(first);
    expect_status(&fc, CHILD_STATUS_BUSY);      /* the EOF is a "request" too */
    expect_status(&fc, CHILD_STATUS_IDLE);
    snprintf(expected, sizeof(expected), "%ld: d\n", (long) fc.pid);
    assert_string_equal(ask(second, "d\n"), expected);
    wait_log(&fc, "timer fired");
    close(second);
    stop_child(&fc);
}

static void test_multi_server_use_limit(void **state)
{
    static const server_spec spec = {.service = multi_echo };
    fake_child fc;
    char    expected[64];
    int     fd;

    start_child(&fc, multi_server_main, &spec, "unix",
                (const char *const[]) {"-o", "max_use=1", NULL});
    fd = connect_to(&fc);
    expect_status(&fc, CHILD_STATUS_EXIT);      /* takes no more clients */
    snprintf(expected, sizeof(expected), "%ld: still served\n", (long) fc.pid);
    assert_string_equal(ask(fd, "still served\n"), expected);
    close(fd);
    assert_int_equal(wait_exit(&fc), 0);
}

static void test_trigger_fifo(void **state)
{
    static const server_spec spec = {.trigger = log_trigger };
    fake_child fc;

    start_child(&fc, trigger_server_main, &spec, "fifo", (const char *const[]) {
        "-n", "pickup", NULL});
    assert_int_equal(write(fc.listen_fd, "W", 1), 1);
    expect_status(&fc, CHILD_STATUS_BUSY);
    expect_status(&fc, CHILD_STATUS_IDLE);
    wait_log(&fc, "trigger W for pickup");
    stop_child(&fc);
}

static void test_trigger_socket(void **state)
{
    static const server_spec spec = {.trigger = log_trigger };
    fake_child fc;
    char    queue[600];

    snprintf(queue, sizeof(queue), "%s/queue", unit_temp_dir());
    var_queue_directory = xstrdup(queue);       /* children's params_load frees it */
    var_trigger_timeout = WAIT_SECONDS;
    open_endpoint(&fc, "unix", "qmgr");
    start_child_on(&fc, trigger_server_main, &spec, "unix",
                   (const char *const[]) {"-n", "qmgr", NULL}, 1);
    assert_int_equal(mail_trigger(MAIL_CLASS_PUBLIC, "qmgr", "AD", 2), 0);
    wait_log(&fc, "trigger AD for qmgr");
    expect_status(&fc, CHILD_STATUS_BUSY);
    expect_status(&fc, CHILD_STATUS_IDLE);
    stop_child(&fc);
}

static void test_trigger_datagram(void **state)
{
    static const server_spec spec = {.trigger = log_trigger };
    fake_child fc;

    start_child(&fc, trigger_server_main, &spec, "unix-dgram", NULL);
    assert_int_equal(unix_dgram_send(fc.path, "dgram", 5), 0);
    wait_log(&fc, "trigger dgram for testd");
    stop_child(&fc);
}

/* Start-up failures are fatal: logged, exit 1 (master then throttles). */
static void expect_fatal(server_main_fn main_fn, const server_spec *spec, const char *type,
                         const char *const *args, int with_listener, const char *message)
{
    fake_child fc;

    open_endpoint(&fc, strcmp(type, "fifo") == 0 ? "fifo" : "unix", NULL);
    start_child_on(&fc, main_fn, spec, type, args, with_listener);
    assert_int_equal(wait_exit(&fc), 1);
    if (!log_contains(&fc, message))
        fail_msg("log %s lacks \"%s\"", fc.log, message);
}

static void test_startup_errors(void **state)
{
    static const server_spec single = {.service = echo_service };
    static const server_spec trigger = {.trigger = log_trigger };

    expect_fatal(single_server_main, &single, "unix", (const char *const[]) {"-Z", NULL}, 1,
                 "fatal: invalid option or missing argument: -Z");
    expect_fatal(single_server_main, &single, "unix", (const char *const[]) {"-n", NULL}, 1,
                 "fatal: invalid option or missing argument: -n");
    expect_fatal(single_server_main, &single, "unix",
                 (const char *const[]) {"-o", "novalue", NULL}, 1,
                 "fatal: invalid \"-o novalue\" option value: need name=value");
    expect_fatal(single_server_main, &single, "unix",
                 (const char *const[]) {"-o", "max_use=lots", NULL}, 1,
                 "fatal: bad numerical configuration: max_use = lots");
    expect_fatal(single_server_main, &single, "fifo", NULL, 1,
                 "fatal: single server: unsupported service type fifo");
    expect_fatal(trigger_server_main, &trigger, "inet", NULL, 1,
                 "fatal: trigger server: unsupported service type inet");
    expect_fatal(multi_server_main, &single, "bogus", NULL, 1,
                 "fatal: unknown service type: -t bogus");
    expect_fatal(single_server_main, &single, "unix", (const char *const[]) {"-s", "0", NULL},
                 1, "fatal: bad listening socket count: -s 0");
    expect_fatal(single_server_main, &single, "unix", NULL, 0,
                 "fatal: no listening socket on descriptor 5");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_server),
        cmocka_unit_test(test_single_server_max_use),
        cmocka_unit_test(test_resident_ignores_limits),
        cmocka_unit_test(test_idle_exit),
        cmocka_unit_test(test_master_gone),
        cmocka_unit_test(test_pre_accept_leaves_client),
        cmocka_unit_test(test_passed_connection),
        cmocka_unit_test(test_multi_server),
        cmocka_unit_test(test_multi_server_use_limit),
        cmocka_unit_test(test_trigger_fifo),
        cmocka_unit_test(test_trigger_socket),
        cmocka_unit_test(test_trigger_datagram),
        cmocka_unit_test(test_startup_errors),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, setup, NULL);
}

/* Unit tests for policy_clnt: the request, reply checks, reuse, retries. */
#include "unit.h"

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "policy_clnt.h"
#include "sock.h"

/* A scripted policy server on a UNIX socket, run in a thread. */
typedef struct server {
    int     listen_fd;
    const char *reply;                  /* sent after each request */
    int     close_after;                /* close the connection after each reply */
    int     requests;                   /* answer this many requests, then stop */
    int     accepts;
    char    request[4096];              /* the last request as received */
    pthread_t thread;
    char    path[300];
} server;

/* Reads one request (up to its empty line) into s->request; 0 at EOF. */
static int read_request(server *s, int fd)
{
    size_t  len = 0;
    char    ch;

    while (read(fd, &ch, 1) == 1) {
        if (len + 1 < sizeof(s->request))
            s->request[len++] = ch;
        s->request[len] = 0;
        if (len >= 2 && s->request[len - 1] == '\n' && s->request[len - 2] == '\n')
            return 1;
        if (len == 1 && ch == '\n')
            return 1;
    }
    return 0;
}

static void *serve(void *arg)
{
    server *s = arg;
    int     fd = -1;

    for (int served = 0; served < s->requests; served++) {
        if (fd < 0) {
            if ((fd = accept(s->listen_fd, NULL, NULL)) < 0)
                break;
            s->accepts++;
        }
        if (!read_request(s, fd))
            break;
        if (write(fd, s->reply, strlen(s->reply)) < 0)
            break;
        if (s->close_after) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static void server_start(server *s, const char *reply, int close_after, int requests)
{
    static int counter;

    memset(s, 0, sizeof(*s));
    snprintf(s->path, sizeof(s->path), "%s/policy%d", unit_temp_dir(), counter++);
    s->listen_fd = unix_listen(s->path, 10, 0666);
    assert_true(s->listen_fd >= 0);
    s->reply = reply;
    s->close_after = close_after;
    s->requests = requests;
    pthread_create(&s->thread, NULL, serve, s);
}

static void server_stop(server *s)
{
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
    unlink(s->path);
}

static policy_clnt *client_for(const server *s, int request_limit)
{
    policy_limits limits = {.timeout = 5,.max_idle = 300,.max_ttl = 1000,.try_limit = 2,
    .retry_delay = 0,.request_limit = request_limit };
    char    endpoint[320];

    snprintf(endpoint, sizeof(endpoint), "unix:%s", s->path);
    return policy_clnt_new(endpoint, &limits);
}

static argv_t *request_of(const char *sender)
{
    argv_t *request = argv_new(4);
    char    item[200];

    argv_add(request, "request=smtpd_access_policy");
    snprintf(item, sizeof(item), "sender=%s", sender);
    argv_add(request, item);
    return request;
}

static void test_query_and_request_format(void **state)
{
    server  s;
    policy_clnt *pc;
    argv_t *request = request_of("evil\r\naction=OK@x");
    strbuf *action = strbuf_new(16);
    strbuf *why = strbuf_new(16);

    server_start(&s, "foo=bar\naction=REJECT go away\n\n", 0, 1);
    pc = client_for(&s, 0);
    assert_int_equal(policy_clnt_query(pc, request, action, why), 0);
    assert_string_equal(action->data, "REJECT go away");
    policy_clnt_free(pc);
    server_stop(&s);
    assert_string_equal(s.request, "request=smtpd_access_policy\nsender=evil??action=OK@x\n\n");
    argv_free(request);
    strbuf_free(action);
    strbuf_free(why);
}

static void test_connection_reused(void **state)
{
    server  s;
    policy_clnt *pc;
    argv_t *request = request_of("a@b");
    strbuf *action = strbuf_new(16);
    strbuf *why = strbuf_new(16);

    server_start(&s, "action=DUNNO\n\n", 0, 3);
    pc = client_for(&s, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(policy_clnt_query(pc, request, action, why), 0);
        assert_string_equal(action->data, "DUNNO");
    }
    policy_clnt_free(pc);
    server_stop(&s);
    assert_int_equal(s.accepts, 1);
    argv_free(request);
    strbuf_free(action);
    strbuf_free(why);
}

/* A server that closes idle connections: the client reconnects at once. */
static void test_closed_connection_renewed(void **state)
{
    server  s;
    policy_clnt *pc;
    argv_t *request = request_of("a@b");
    strbuf *action = strbuf_new(16);
    strbuf *why = strbuf_new(16);

    server_start(&s, "action=OK\n\n", 1, 3);
    pc = client_for(&s, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(policy_clnt_query(pc, request, action, why), 0);
    policy_clnt_free(pc);
    server_stop(&s);
    assert_int_equal(s.accepts, 3);
    argv_free(request);
    strbuf_free(action);
    strbuf_free(why);
}

static void test_request_limit(void **state)
{
    server  s;
    policy_clnt *pc;
    argv_t *request = request_of("a@b");
    strbuf *action = strbuf_new(16);
    strbuf *why = strbuf_new(16);

    server_start(&s, "action=OK\n\n", 1, 2);
    pc = client_for(&s, 1);
    assert_int_equal(policy_clnt_query(pc, request, action, why), 0);
    assert_int_equal(policy_clnt_query(pc, request, action, why), 0);
    policy_clnt_free(pc);
    server_stop(&s);
    assert_int_equal(s.accepts, 2);
    argv_free(request);
    strbuf_free(action);
    strbuf_free(why);
}

static void bad_reply(const char *reply, const char *reason)
{
    server  s;
    policy_clnt *pc;
    argv_t *request = request_of("a@b");
    strbuf *action = strbuf_new(16);
    strbuf *why = strbuf_new(16);

    server_start(&s, reply, 1, 2);
    pc = client_for(&s, 0);
    assert_int_equal(policy_clnt_query(pc, request, action, why), -1);
    assert_string_equal(why->data, reason);
    policy_clnt_free(pc);
    server_stop(&s);
    argv_free(request);
    strbuf_free(action);
    strbuf_free(why);
}

static void test_bad_replies(void **state)
{
    static char long_line[POLICY_LINE_MAX + 20];

    bad_reply("foo=bar\n\n", "reply has no action attribute");
    bad_reply("action=OK\naction=REJECT\n\n", "reply has more than one action attribute");
    bad_reply("no equals sign\n\n", "malformed reply line");
    bad_reply("action=OK", "lost connection");
    memset(long_line, 'x', sizeof(long_line) - 2);
    memcpy(long_line, "action=", 7);
    long_line[sizeof(long_line) - 2] = '\n';
    bad_reply(long_line, "reply line too long");
}

static void test_unreachable(void **state)
{
    policy_limits limits = {.timeout = 2,.max_idle = 300,.max_ttl = 1000,.try_limit = 2 };
    policy_clnt *pc = policy_clnt_new("unix:/nonexistent/policy", &limits);
    argv_t *request = request_of("a@b");
    strbuf *action = strbuf_new(16);
    strbuf *why = strbuf_new(16);

    assert_int_equal(policy_clnt_query(pc, request, action, why), -1);
    assert_string_equal(why->data, "No such file or directory");
    assert_string_equal(policy_clnt_server(pc), "/nonexistent/policy");
    policy_clnt_free(pc);
    pc = policy_clnt_new("tcp:1.2.3.4:5", &limits);
    assert_int_equal(policy_clnt_query(pc, request, action, why), -1);
    assert_non_null(strstr(why->data, "unsupported policy service endpoint"));
    assert_string_equal(policy_clnt_endpoint(pc), "tcp:1.2.3.4:5");
    policy_clnt_free(pc);
    pc = policy_clnt_new("inet:127.0.0.1", &limits);
    assert_int_equal(policy_clnt_query(pc, request, action, why), -1);
    assert_non_null(strstr(why->data, "malformed policy service endpoint"));
    policy_clnt_free(pc);
    argv_free(request);
    strbuf_free(action);
    strbuf_free(why);
}

static void test_bad_attribute_name(void **state)
{
    policy_limits limits = {.timeout = 2,.max_idle = 300,.max_ttl = 1000,.try_limit = 2 };
    server  s;
    policy_clnt *pc;
    argv_t *request = argv_new(2);
    strbuf *action = strbuf_new(16);
    strbuf *why = strbuf_new(16);
    char    endpoint[320];

    server_start(&s, "action=OK\n\n", 0, 1);
    snprintf(endpoint, sizeof(endpoint), "unix:%s", s.path);
    pc = policy_clnt_new(endpoint, &limits);
    argv_add(request, "Bad Name=x");
    assert_int_equal(policy_clnt_query(pc, request, action, why), -1);
    assert_non_null(strstr(why->data, "bad policy request attribute"));
    policy_clnt_free(pc);
    argv_truncate(request, 0);
    argv_add(request, "request=smtpd_access_policy");
    pc = policy_clnt_new(endpoint, &limits);
    assert_int_equal(policy_clnt_query(pc, request, action, why), 0);
    policy_clnt_free(pc);
    server_stop(&s);
    argv_free(request);
    strbuf_free(action);
    strbuf_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_and_request_format),
        cmocka_unit_test(test_connection_reused),
        cmocka_unit_test(test_closed_connection_renewed),
        cmocka_unit_test(test_request_limit),
        cmocka_unit_test(test_bad_replies),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_bad_attribute_name),
    };

    signal(SIGPIPE, SIG_IGN);                   /* as in the daemons: a closed peer is an error */
    return cmocka_run_group_tests(tests, NULL, NULL);
}

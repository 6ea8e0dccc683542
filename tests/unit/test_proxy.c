/*
 * Unit tests for proxymap (src/proxymap/proxy_server.h) and the proxy:
 * table type (src/maps/map_proxy.c): approval from proxy_read_maps, each
 * reply status, bad requests, and the client against a real server core
 * listening on a scratch private/proxymap: found, not found, table errors,
 * unapproved tables, reconnection after the server closed the
 * connection, no server, a garbled reply, and the names it refuses.
 */
#include "unit.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "attr.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "map.h"
#include "map_proxy.h"
#include "sock.h"
#include "../../src/proxymap/proxy_server.h"

#define APPROVED "proxy:inline:{ key=value, Mixed=case } proxy:fail:broken " \
    "proxy:proxy:unix:passwd.byname, proxy:hash:/nonexistent/table inline:{ x=y } " \
    "mydomain.example proxy:notatable"

/* Server core over a socket pair ------------------------------------------ */

typedef struct exchange {
    stream *client;
    stream *server_end;
    proxy_server *server;
} exchange;

static exchange *exchange_new(void)
{
    exchange *ex = calloc(1, sizeof(*ex));
    int     pair[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    ex->client = stream_open_fd(pair[0], 5);
    ex->server_end = stream_open_fd(pair[1], 5);
    ex->server = proxy_server_new(APPROVED);
    return ex;
}

static void exchange_free(exchange *ex)
{
    stream_close(ex->client);
    stream_close(ex->server_end);
    proxy_server_free(ex->server);
    free(ex);
}

static void send_lookup(exchange *ex, const char *table, int flags, const char *key)
{
    attr_put_str(ex->client, "request", "lookup");
    attr_put_str(ex->client, "table", table);
    attr_put_int(ex->client, "flags", flags);
    attr_put_str(ex->client, "key", key);
    assert_int_equal(attr_end(ex->client), 0);
}

/* Serves one request; returns the reply status, value and reason. */
static int ask(exchange *ex, const char *table, int flags, const char *key, strbuf *value,
               strbuf *reason)
{
    int     status = -1;
    const attr_spec spec[] = {
        ATTR_INT("status", &status),
        ATTR_STR("value", value),
        ATTR_OPT_STR("reason", reason),
        ATTR_END,
    };

    send_lookup(ex, table, flags, key);
    strbuf_reset(reason);
    assert_int_equal(proxy_server_serve(ex->server, ex->server_end), 1);
    assert_true(attr_scan(ex->client, 0, spec) >= 2);
    return status;
}

static void test_approval_comes_from_proxy_entries(void **state)
{
    proxy_server *server = proxy_server_new(APPROVED);

    assert_true(proxy_server_allows(server, "inline:{ key=value, Mixed=case }"));
    assert_true(proxy_server_allows(server, "fail:broken"));
    assert_true(proxy_server_allows(server, "unix:passwd.byname"));
    assert_true(proxy_server_allows(server, "hash:/nonexistent/table"));
    assert_false(proxy_server_allows(server, "inline:{ x=y }"));        /* no proxy: */
    assert_false(proxy_server_allows(server, "mydomain.example"));
    assert_false(proxy_server_allows(server, "notatable"));
    assert_false(proxy_server_allows(server, "unix:group.byname"));
    proxy_server_free(server);
    server = proxy_server_new("");
    assert_false(proxy_server_allows(server, "unix:passwd.byname"));
    proxy_server_free(server);
}

static void test_reply_statuses(void **state)
{
    exchange *ex = exchange_new();
    strbuf *value = strbuf_new(16);
    strbuf *reason = strbuf_new(16);
    const char *table = "inline:{ key=value, Mixed=case }";

    assert_int_equal(ask(ex, table, MAP_FLAG_FOLD, "KEY", value, reason), PROXY_STAT_OK);
    assert_string_equal(value->data, "value");
    assert_int_equal(reason->len, 0);
    assert_int_equal(ask(ex, table, 0, "Mixed", value, reason), PROXY_STAT_OK);
    assert_string_equal(value->data, "case");
    assert_int_equal(ask(ex, table, 0, "KEY", value, reason), PROXY_STAT_NOKEY);
    assert_string_equal(value->data, "");
    assert_int_equal(ask(ex, table, MAP_FLAG_FOLD, "other", value, reason), PROXY_STAT_NOKEY);
    assert_int_equal(ask(ex, "fail:broken", 0, "k", value, reason), PROXY_STAT_RETRY);
    assert_string_equal(reason->data, "configured to fail every request");
    assert_int_equal(ask(ex, "hash:/nonexistent/table", 0, "k", value, reason),
                     PROXY_STAT_RETRY);
    assert_non_null(strstr(reason->data, "/nonexistent/table"));
    assert_int_equal(ask(ex, "unix:group.byname", 0, "root", value, reason), PROXY_STAT_RETRY);
    assert_string_equal(reason->data,
                        "table unix:group.byname is not approved for proxy read access");
    assert_int_equal(ask(ex, "unix:passwd.byname", 0, "root", value, reason), PROXY_STAT_OK);
    assert_true(strncmp(value->data, "root:", 5) == 0);
    strbuf_free(value);
    strbuf_free(reason);
    exchange_free(ex);
}

static int serve_raw(const char *frame)
{
    exchange *ex = exchange_new();
    int     status;

    stream_puts(ex->client, frame);
    stream_flush(ex->client);
    shutdown(ex->client->fd, SHUT_WR);
    status = proxy_server_serve(ex->server, ex->server_end);
    exchange_free(ex);
    return status;
}

static void test_bad_requests_drop_the_client(void **state)
{
    assert_int_equal(serve_raw(""), 0);
    assert_int_equal(serve_raw("request=6:lookup\ntable=4:a:bc\nflags=1:0\n\n"), -1);
    assert_int_equal(serve_raw("request=6:update\ntable=4:a:bc\nflags=1:0\nkey=1:k\n\n"), -1);
    assert_int_equal(serve_raw("request=6:lookup\ntable=4:a:bc\nflags=3:256\nkey=1:k\n\n"), -1);
    assert_int_equal(serve_raw("request=6:lookup\ntable=4:a:bc\nflags=2:-1\nkey=1:k\n\n"), -1);
    assert_int_equal(serve_raw("request=6:lookup\ntable=4:a:bc\nflags=1:x\nkey=1:k\n\n"), -1);
    assert_int_equal(serve_raw("request=6:lookup\nTABLE=4:a:bc\n\n"), -1);
    assert_int_equal(serve_raw("request=6:lookup\ntable=4:a:b"), -1);
}

/* The proxy: client against a server core on private/proxymap ------------- */

enum server_style { SERVE_WELL, SERVE_ONE_PER_CONNECTION, SERVE_GARBAGE };

static pid_t server_pid;

static void stop_server(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
}

static void serve_connection(int fd, enum server_style style, proxy_server *server)
{
    stream *client = stream_open_fd(fd, 5);

    if (style == SERVE_GARBAGE) {
        (void) stream_peek(client);
        stream_puts(client, "status=1:0\nnonsense\n\n");
        stream_flush(client);
    } else {
        int     status;

        do {
            status = proxy_server_serve(server, client);
        } while (status > 0 && style == SERVE_WELL);
    }
    stream_close(client);
}

/* Forks a server core listening on ROOT/private/proxymap. */
static void start_server(enum server_style style)
{
    char    path[512];
    int     listen_fd;

    stop_server();
    snprintf(path, sizeof(path), "%s/private", unit_temp_dir());
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/private/proxymap", unit_temp_dir());
    unlink(path);
    assert_true((listen_fd = unix_listen(path, 16, 0600)) >= 0);
    if ((server_pid = fork()) == 0) {
        proxy_server *server = proxy_server_new(APPROVED);
        int     fd;

        while ((fd = accept(listen_fd, NULL, NULL)) >= 0)
            serve_connection(fd, style, server);
        _exit(0);
    }
    close(listen_fd);
    mail_proto_set_root(unit_temp_dir());
}

static int lookup(const char *spec, const char *key, const char **value, map_t **opened)
{
    map_t  *map = map_open(spec, MAP_READ, MAP_FLAG_FOLD);
    int     status;

    assert_false(map_broken(map));
    status = map_lookup(map, key, value);
    *opened = map;
    return status;
}

static void test_client_lookups(void **state)
{
    map_t  *map;
    map_t  *users;
    const char *value;

    start_server(SERVE_WELL);
    assert_int_equal(lookup("proxy:inline:{ key=value, Mixed=case }", "Key", &value, &map),
                     MAP_OK);
    assert_string_equal(value, "value");
    assert_int_equal(map_lookup(map, "absent", &value), MAP_NOTFOUND);
    assert_int_equal(lookup("proxy:unix:passwd.byname", "root", &value, &users), MAP_OK);
    assert_true(strncmp(value, "root:", 5) == 0);
    assert_int_equal(map_lookup(users, "no-such-user-here", &value), MAP_NOTFOUND);
    assert_int_equal(map_lookup(map, "mixed", &value), MAP_OK);      /* one shared connection */
    map_close(users);
    map_close(map);
    stop_server();
}

static void test_client_errors_are_errors(void **state)
{
    map_t  *map;
    const char *value;

    start_server(SERVE_WELL);
    assert_int_equal(lookup("proxy:fail:broken", "k", &value, &map), MAP_ERROR);
    assert_non_null(strstr(map_error(map), "configured to fail every request"));
    map_close(map);
    assert_int_equal(lookup("proxy:unix:group.byname", "root", &value, &map), MAP_ERROR);
    assert_non_null(strstr(map_error(map), "not approved for proxy read access"));
    map_close(map);
    stop_server();
}

static void test_client_reconnects(void **state)
{
    map_t  *map;
    const char *value;

    start_server(SERVE_ONE_PER_CONNECTION);
    assert_int_equal(lookup("proxy:inline:{ key=value, Mixed=case }", "key", &value, &map),
                     MAP_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(map_lookup(map, "key", &value), MAP_OK);
        assert_string_equal(value, "value");
    }
    map_close(map);
    stop_server();
}

static void test_client_without_server(void **state)
{
    map_t  *map;
    const char *value;
    char    path[512];

    start_server(SERVE_WELL);
    stop_server();
    snprintf(path, sizeof(path), "%s/private/proxymap", unit_temp_dir());
    unlink(path);
    assert_int_equal(lookup("proxy:unix:passwd.byname", "root", &value, &map), MAP_ERROR);
    assert_non_null(strstr(map_error(map), "cannot connect to the proxymap service"));
    map_close(map);
}

static void test_client_garbled_reply(void **state)
{
    map_t  *map;
    const char *value;

    start_server(SERVE_GARBAGE);
    assert_int_equal(lookup("proxy:unix:passwd.byname", "root", &value, &map), MAP_ERROR);
    assert_non_null(strstr(map_error(map), "no reply from the proxymap service"));
    map_close(map);
    stop_server();
}

static void test_client_names(void **state)
{
    const char *refused[] = {"proxy:hash", "proxy:nosuch:table", "proxy:proxy:unix:x",
        "proxy::x", "proxy:unix:"};
    map_t  *map;

    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        map = map_open(refused[i], MAP_READ, 0);
        assert_true(map_broken(map));
        map_close(map);
    }
    map = map_open("proxy:regexp:/etc/postfix/x", MAP_READ, 0);
    assert_true(map_flags(map) & MAP_FLAG_PATTERN);
    assert_false(map_flags(map) & MAP_FLAG_FIXED);
    map_close(map);
    map = map_open("proxy:hash:/etc/postfix/x", MAP_READ, 0);
    assert_true(map_flags(map) & MAP_FLAG_FIXED);
    map_close(map);
    map = map_open("proxy:hash:/etc/postfix/x", MAP_UPDATE, 0);
    assert_true(map_broken(map));
    map_close(map);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_approval_comes_from_proxy_entries),
        cmocka_unit_test(test_reply_statuses),
        cmocka_unit_test(test_bad_requests_drop_the_client),
        cmocka_unit_test(test_client_lookups),
        cmocka_unit_test(test_client_errors_are_errors),
        cmocka_unit_test(test_client_reconnects),
        cmocka_unit_test(test_client_without_server),
        cmocka_unit_test(test_client_garbled_reply),
        cmocka_unit_test(test_client_names),
    };

    var_ipc_timeout = 5;
    return cmocka_run_group_tests(tests, NULL, NULL);
}

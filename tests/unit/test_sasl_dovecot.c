/*
 * Unit tests for sasl_dovecot: the protocol parsers, a fake authentication
 * server that misbehaves (a socket this test controls), and a real Dovecot
 * started by the test with its own configuration, a passwd-file of test
 * users and an auth socket in the scratch directory.
 */
#include "unit.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "msg.h"
#include "base64.h"
#include "sasl_dovecot.h"
#include "sasl_mech.h"
#include "sock.h"
#include "stream.h"
#include "strbuf.h"

#define DOVECOT_BINARY "/usr/sbin/dovecot"
#define TEST_TIMEOUT   5

static char *dovecot_socket;
static pid_t dovecot_pid;

/* Parsers. */

static void test_unescape(void **state)
{
    strbuf *out = strbuf_new(16);

    assert_int_equal(sasl_dovecot_unescape("a\001tb\001nc\001ld\001re\0011f", 16, out), 0);
    assert_int_equal(out->len, 11);
    assert_memory_equal(out->data, "a\tb\nc\nd\re\001f", 11);
    assert_int_equal(sasl_dovecot_unescape("x\0010y", 4, out), 0);
    assert_memory_equal(out->data, "x\0y", 3);
    assert_int_equal(sasl_dovecot_unescape("dangling\001", 9, out), -1);
    strbuf_free(out);
}

static int feed_handshake(sasl_dovecot_handshake *handshake, const char *const *lines,
                          strbuf *why)
{
    int     status = 0;

    for (size_t i = 0; lines[i] && status == 0; i++)
        status = sasl_dovecot_handshake_line(handshake, lines[i], strlen(lines[i]), why);
    return status;
}

static void test_handshake_parser(void **state)
{
    static const char *const good[] = {"VERSION\t1\t2", "MECH\tPLAIN\tplaintext",
        "MECH\tANONYMOUS\tanonymous", "MECH\tCRAM-MD5\tdictionary\tactive\tfuture-flag",
        "MECH\tPLAIN\tplaintext", "SPID\t123", "CUID\t4", "COOKIE\tabcdef", "NEWTHING\tx",
        "DONE", NULL};
    static const char *const bad_version[] = {"VERSION\t2\t0", NULL};
    static const char *const no_version[] = {"MECH\tPLAIN", NULL};
    static const char *const bad_mech[] = {"VERSION\t1\t2", "MECH\tpla in", NULL};
    static const char *const twice[] = {"VERSION\t1\t2", "VERSION\t1\t2", NULL};
    static const char *const bad_command[] = {"VERSION\t1\t2", "mech\tPLAIN", NULL};
    sasl_dovecot_handshake handshake = {0};
    strbuf *why = strbuf_new(32);

    assert_int_equal(feed_handshake(&handshake, good, why), 1);
    assert_int_equal(handshake.mech_count, 3);              /* duplicate ignored */
    assert_string_equal(handshake.mechs[0].name, "PLAIN");
    assert_int_equal(handshake.mechs[0].properties, SASL_PROP_PLAINTEXT);
    assert_int_equal(handshake.mechs[1].properties, SASL_PROP_ANONYMOUS);
    assert_int_equal(handshake.mechs[2].properties, SASL_PROP_DICTIONARY | SASL_PROP_ACTIVE);
    sasl_dovecot_handshake_free(&handshake);

    assert_int_equal(feed_handshake(&handshake, bad_version, why), -1);
    assert_non_null(strstr(why->data, "unsupported protocol version 2"));
    sasl_dovecot_handshake_free(&handshake);
    assert_int_equal(feed_handshake(&handshake, no_version, why), -1);
    sasl_dovecot_handshake_free(&handshake);
    assert_int_equal(feed_handshake(&handshake, bad_mech, why), -1);
    sasl_dovecot_handshake_free(&handshake);
    assert_int_equal(feed_handshake(&handshake, twice, why), -1);
    sasl_dovecot_handshake_free(&handshake);
    assert_int_equal(feed_handshake(&handshake, bad_command, why), -1);
    sasl_dovecot_handshake_free(&handshake);
    assert_int_equal(sasl_dovecot_handshake_line(&handshake, "VERSION\t1\0\t2", 12, why), -1);
    sasl_dovecot_handshake_free(&handshake);
    strbuf_free(why);
}

static void test_handshake_is_bounded(void **state)
{
    sasl_dovecot_handshake handshake = {0};
    strbuf *why = strbuf_new(32);
    char    line[64];
    int     status = 0;
    int     i;

    assert_int_equal(sasl_dovecot_handshake_line(&handshake, "VERSION\t1\t2", 11, why), 0);
    for (i = 0; i < 100 && status == 0; i++) {
        snprintf(line, sizeof(line), "MECH\tM%d", i);
        status = sasl_dovecot_handshake_line(&handshake, line, strlen(line), why);
    }
    assert_int_equal(status, -1);
    assert_int_equal(i, SASL_DOVECOT_MECH_MAX + 1);
    assert_string_equal(why->data, "too many mechanisms");
    sasl_dovecot_handshake_free(&handshake);
    status = 0;
    for (i = 0; i < 1000 && status == 0; i++)
        status = sasl_dovecot_handshake_line(&handshake, i ? "SPID\t1" : "VERSION\t1\t2",
                                             i ? 6 : 11, why);
    assert_int_equal(status, -1);
    assert_string_equal(why->data, "handshake too long");
    sasl_dovecot_handshake_free(&handshake);
    strbuf_free(why);
}

static int parse(const char *line, sasl_dovecot_reply *reply, strbuf *why)
{
    return sasl_dovecot_parse_reply(line, strlen(line), reply, why);
}

static void test_reply_parser(void **state)
{
    strbuf *why = strbuf_new(32);
    sasl_dovecot_reply reply = {.text = strbuf_new(16) };

    assert_int_equal(parse("OK\t7\tuser=al\001tice\tauthz", &reply, why), -1);
    assert_int_equal(parse("OK\t7\tuser=alice\tother=x", &reply, why), 0);
    assert_int_equal(reply.type, SASL_DOVECOT_OK);
    assert_int_equal(reply.id, 7);
    assert_string_equal(reply.text->data, "alice");
    assert_int_equal(parse("CONT\t8\tVXNlcm5hbWU6", &reply, why), 0);
    assert_int_equal(reply.type, SASL_DOVECOT_CONT);
    assert_string_equal(reply.text->data, "VXNlcm5hbWU6");
    assert_int_equal(parse("CONT\t8\t", &reply, why), 0);     /* empty challenge */
    assert_int_equal(reply.text->len, 0);
    assert_int_equal(parse("FAIL\t9\tuser=bob\treason=Bad\001rpass\001nword", &reply, why), 0);
    assert_int_equal(reply.type, SASL_DOVECOT_FAIL);
    assert_false(reply.temporary);
    assert_string_equal(reply.text->data, "Bad?pass?word");
    assert_int_equal(parse("FAIL\t9\ttemp", &reply, why), 0);
    assert_true(reply.temporary);

    assert_int_equal(parse("OK\t7", &reply, why), -1);               /* no user */
    assert_int_equal(parse("OK\t7\tuser=", &reply, why), -1);        /* empty user */
    assert_int_equal(parse("OK\t7\tuser=a\001nb", &reply, why), -1);  /* LF in user */
    assert_int_equal(parse("CONT\t8\tnot base64!", &reply, why), -1);
    assert_int_equal(parse("CONT\t8", &reply, why), -1);
    assert_int_equal(parse("CONT\t8\tAA==\textra", &reply, why), -1);
    assert_int_equal(parse("OK\tx\tuser=a", &reply, why), -1);       /* bad id */
    assert_int_equal(parse("OK\t99999999999\tuser=a", &reply, why), -1);
    assert_int_equal(parse("OK", &reply, why), -1);
    assert_int_equal(parse("HELLO\t1", &reply, why), -1);
    assert_string_equal(why->data, "unexpected command");
    assert_int_equal(sasl_dovecot_parse_reply("OK\t1\tuser=a\0b", 13, &reply, why), -1);
    strbuf_free(reply.text);
    strbuf_free(why);
}

static void test_fail_reply_user(void **state)
{
    strbuf *why = strbuf_new(32);
    sasl_dovecot_reply reply = {.text = strbuf_new(16),.user = strbuf_new(16) };

    assert_int_equal(parse("FAIL\t3\tuser=alice", &reply, why), 0);
    assert_string_equal(reply.user->data, "alice");
    assert_int_equal(reply.text->len, 0);
    assert_int_equal(parse("FAIL\t3\treason=no", &reply, why), 0);
    assert_int_equal(reply.user->len, 0);                  /* not kept from the last reply */
    assert_int_equal(parse("FAIL\t3\tuser=a\001nX-Evil: 1", &reply, why), 0);
    assert_int_equal(reply.user->len, 0);                  /* LF in the name: left out */
    assert_int_equal(parse("FAIL\t3\tuser=", &reply, why), 0);
    assert_int_equal(reply.user->len, 0);
    strbuf_free(reply.text);
    strbuf_free(reply.user);
    strbuf_free(why);
}

/* A fake authentication server: a thread on a socket the test controls. */

typedef struct fake_server {
    char    path[512];
    int     listen_fd;
    const char *greeting;               /* sent when the client connects */
    const char *const *replies;         /* one per AUTH/CONT line, NULL-terminated */
    strbuf *received;                   /* the client's AUTH and CONT lines */
    pthread_t thread;
} fake_server;

static void write_text(int fd, const char *text)
{
    size_t  len = strlen(text);

    while (len > 0) {
        ssize_t n = write(fd, text, len);

        if (n <= 0)
            return;
        text += n;
        len -= (size_t) n;
    }
}

static int handshake_line(const strbuf *line)
{
    return strncmp(line->data, "VERSION\t", 8) == 0 || strncmp(line->data, "CPID\t", 5) == 0;
}

static void *fake_server_run(void *context)
{
    fake_server *fake = context;
    int     fd = accept(fake->listen_fd, NULL, NULL);
    stream *s;
    strbuf *line = strbuf_new(256);

    if (fd < 0)
        return NULL;
    write_text(fd, fake->greeting);
    if (strstr(fake->greeting, "DONE\n") == NULL)
        shutdown(fd, SHUT_WR);          /* a broken handshake ends here */
    s = stream_open_fd(fd, TEST_TIMEOUT);
    for (size_t i = 0; fake->replies[i] != NULL;) {
        if (stream_get_line(s, line, 100000) != STREAM_LINE_COMPLETE)
            break;
        if (handshake_line(line))
            continue;
        strbuf_append(fake->received, line->data, line->len);
        write_text(fd, fake->replies[i++]);
    }
    shutdown(fd, SHUT_WR);              /* the client sees EOF after the script */
    while (stream_get_line(s, line, 100000) == STREAM_LINE_COMPLETE)
        if (!handshake_line(line))
            strbuf_append(fake->received, line->data, line->len);
    stream_close(s);
    strbuf_free(line);
    return NULL;
}

static void fake_server_start(fake_server *fake, const char *greeting,
                              const char *const *replies)
{
    static int counter;

    snprintf(fake->path, sizeof(fake->path), "%s/fake-auth-%d", unit_temp_dir(), counter++);
    fake->listen_fd = unix_listen(fake->path, 5, 0600);
    assert_true(fake->listen_fd >= 0);
    fake->greeting = greeting;
    fake->replies = replies;
    fake->received = strbuf_new(256);
    assert_int_equal(pthread_create(&fake->thread, NULL, fake_server_run, fake), 0);
}

static void fake_server_finish(fake_server *fake)
{
    pthread_join(fake->thread, NULL);
    close(fake->listen_fd);
}

#define GREETING "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n" \
    "MECH\tANONYMOUS\tanonymous\nSPID\t1\nCUID\t1\nCOOKIE\t00\nDONE\n"

static const sasl_dovecot_request plain_request = {
    .mechanism = "plain",
    .initial_response = "AGFsaWNlAHNlY3JldDE=",         /* \0alice\0secret1 */
    .service = "smtp",
    .security_flags = SASL_SEC_NOANONYMOUS,
};

/* Run one request against a fake server that answers with `reply`. */
static enum sasl_status fake_exchange(const char *greeting, const char *reply,
                                      const sasl_dovecot_request *request, strbuf *text,
                                      strbuf *received)
{
    const char *const replies[] = {reply, NULL};
    fake_server fake;
    sasl_dovecot *server;
    enum sasl_status status;

    fake_server_start(&fake, greeting, replies);
    server = sasl_dovecot_open(fake.path, TEST_TIMEOUT, 12288);
    status = sasl_dovecot_start(server, request, text);
    sasl_dovecot_close(server);
    fake_server_finish(&fake);
    if (received)
        strbuf_set_mem(received, fake.received->data, fake.received->len);
    strbuf_free(fake.received);
    return status;
}

static void test_fake_server_request_format(void **state)
{
    strbuf *text = strbuf_new(32);
    strbuf *received = strbuf_new(32);
    sasl_dovecot_request request = plain_request;

    request.local_address = "192.0.2.1";
    request.remote_address = "198.51.100.7";
    request.tls_active = 1;
    request.tls_client_verified = 1;
    request.service = "sm\ttp";
    assert_int_equal(fake_exchange(GREETING, "OK\t1\tuser=alice\n", &request, text, received),
                     SASL_STATUS_OK);
    assert_string_equal(text->data, "alice");
    assert_string_equal(received->data, "AUTH\t1\tPLAIN\tservice=sm\001ttp\tnologin"
                        "\tlip=192.0.2.1\trip=198.51.100.7\tsecured\tvalid-client-cert"
                        "\tresp=AGFsaWNlAHNlY3JldDE=\n");
    request = plain_request;
    request.initial_response = "=";
    assert_int_equal(fake_exchange(GREETING, "OK\t1\tuser=alice\n", &request, text, received),
                     SASL_STATUS_OK);
    assert_string_equal(received->data, "AUTH\t1\tPLAIN\tservice=smtp\tnologin\tresp=\n");
    strbuf_free(text);
    strbuf_free(received);
}

static void test_fake_server_malformed_reply_is_temporary(void **state)
{
    static const char *const bad_replies[] = {
        "OK\t1\n",                      /* no user */
        "OK\t2\tuser=alice\n",          /* another request's id */
        "CONT\t1\t!!!!\n",              /* not base64 */
        "OK\t1\tuser=al\001rice\n",     /* control character in the user name */
        "WHAT\t1\n",
        "OK\t1\tuser=alice",            /* no LF, then EOF */
        "",                             /* EOF */
    };
    strbuf *text = strbuf_new(32);

    for (size_t i = 0; i < sizeof(bad_replies) / sizeof(bad_replies[0]); i++) {
        assert_int_equal(fake_exchange(GREETING, bad_replies[i], &plain_request, text, NULL),
                         SASL_STATUS_TEMP);
        assert_non_null(strstr(text->data, "authentication server problem"));
    }
    strbuf_free(text);
}

static void test_fake_server_overlong_line_is_temporary(void **state)
{
    strbuf *reply = strbuf_new(SASL_DOVECOT_LINE_MAX * 2);
    strbuf *text = strbuf_new(32);

    strbuf_append_str(reply, "FAIL\t1\treason=");
    while (reply->len < SASL_DOVECOT_LINE_MAX + 10)
        strbuf_append_str(reply, "xxxxxxxx");
    strbuf_append_char(reply, '\n');
    assert_int_equal(fake_exchange(GREETING, reply->data, &plain_request, text, NULL),
                     SASL_STATUS_TEMP);
    assert_non_null(strstr(text->data, "line too long"));
    strbuf_free(reply);
    strbuf_free(text);
}

static void test_fake_server_bad_handshake(void **state)
{
    static const char *const greetings[] = {
        "VERSION\t2\t0\nMECH\tPLAIN\nDONE\n",
        "HELLO\n",
        "VERSION\t1\t2\nMECH\tplain text\nDONE\n",
        "VERSION\t1\t2\nMECH\tPLAIN\n",         /* EOF before DONE */
    };
    strbuf *text = strbuf_new(32);

    for (size_t i = 0; i < sizeof(greetings) / sizeof(greetings[0]); i++)
        assert_int_equal(fake_exchange(greetings[i], "OK\t1\tuser=alice\n", &plain_request,
                                       text, NULL), SASL_STATUS_TEMP);
    strbuf_free(text);
}

static void test_fake_server_fail_reasons(void **state)
{
    strbuf *text = strbuf_new(32);

    assert_int_equal(fake_exchange(GREETING, "FAIL\t1\tuser=alice\n", &plain_request, text,
                                   NULL), SASL_STATUS_FAIL);
    assert_int_equal(text->len, 0);
    assert_int_equal(fake_exchange(GREETING, "FAIL\t1\treason=Locked\001nout\n", &plain_request,
                                   text, NULL), SASL_STATUS_FAIL);
    assert_string_equal(text->data, "Locked?out");
    assert_int_equal(fake_exchange(GREETING, "FAIL\t1\ttemp\treason=db down\n", &plain_request,
                                   text, NULL), SASL_STATUS_TEMP);
    assert_string_equal(text->data, "db down");
    strbuf_free(text);
}

static void test_client_input_checked_before_sending(void **state)
{
    const char *const replies[] = {NULL};
    fake_server fake;
    sasl_dovecot *server;
    strbuf *text = strbuf_new(32);
    strbuf *long_response = strbuf_new(20000);
    sasl_dovecot_request request = plain_request;

    fake_server_start(&fake, GREETING, replies);
    server = sasl_dovecot_open(fake.path, TEST_TIMEOUT, 12288);
    request.mechanism = "ANONYMOUS";            /* offered, but noanonymous */
    assert_int_equal(sasl_dovecot_start(server, &request, text), SASL_STATUS_BAD_MECH);
    request.mechanism = "CRAM-MD5";             /* not offered */
    assert_int_equal(sasl_dovecot_start(server, &request, text), SASL_STATUS_BAD_MECH);
    request.mechanism = "PLAIN";
    request.initial_response = "AGFsaWNl\r\n";
    assert_int_equal(sasl_dovecot_start(server, &request, text), SASL_STATUS_BAD_DATA);
    while (long_response->len < 12292)
        strbuf_append_str(long_response, "AAAA");
    request.initial_response = long_response->data;
    assert_int_equal(sasl_dovecot_start(server, &request, text), SASL_STATUS_BAD_DATA);
    assert_int_equal(sasl_dovecot_continue(server, "AAAA", text), SASL_STATUS_TEMP);
    sasl_dovecot_close(server);
    fake_server_finish(&fake);
    assert_int_equal(fake.received->len, 0);    /* nothing reached the server */
    strbuf_free(fake.received);
    strbuf_free(text);
    strbuf_free(long_response);
}

static void test_fake_server_mechanism_list(void **state)
{
    const char *const replies[] = {NULL};
    fake_server fake;
    sasl_dovecot *server;
    strbuf *list = strbuf_new(32);
    strbuf *why = strbuf_new(32);
    sasl_filter *filter = sasl_filter_parse("!login, static:rest", why);

    fake_server_start(&fake, GREETING, replies);
    server = sasl_dovecot_open(fake.path, TEST_TIMEOUT, 12288);
    assert_int_equal(sasl_dovecot_mechanisms(server, 0, NULL, list, why), 0);
    assert_string_equal(list->data, "PLAIN LOGIN ANONYMOUS");
    assert_int_equal(sasl_dovecot_mechanisms(server, SASL_SEC_NOANONYMOUS, NULL, list, why), 0);
    assert_string_equal(list->data, "PLAIN LOGIN");
    assert_int_equal(sasl_dovecot_mechanisms(server, SASL_SEC_NOANONYMOUS, filter, list, why), 0);
    assert_string_equal(list->data, "PLAIN");
    assert_int_equal(sasl_dovecot_mechanisms(server, SASL_SEC_NOPLAINTEXT, NULL, list, why), 0);
    assert_string_equal(list->data, "ANONYMOUS");
    sasl_dovecot_close(server);
    fake_server_finish(&fake);
    strbuf_free(fake.received);
    sasl_filter_free(filter);
    strbuf_free(list);
    strbuf_free(why);
}

static void test_unreachable_server_is_temporary(void **state)
{
    strbuf *text = strbuf_new(32);
    strbuf *path = strbuf_new(32);
    sasl_dovecot *server;

    strbuf_printf(path, "%s/no-such-socket", unit_temp_dir());
    server = sasl_dovecot_open(path->data, TEST_TIMEOUT, 12288);
    assert_int_equal(sasl_dovecot_start(server, &plain_request, text), SASL_STATUS_TEMP);
    assert_non_null(strstr(text->data, "Connect to"));
    assert_int_equal(sasl_dovecot_mechanisms(server, 0, NULL, text, text), -1);
    sasl_dovecot_close(server);
    strbuf_free(text);
    strbuf_free(path);
}

/* A real Dovecot, started once for the tests below. */

static void write_file(const char *path, const char *text)
{
    FILE   *fp = fopen(path, "w");

    if (fp == NULL || fputs(text, fp) == EOF || fclose(fp) != 0) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        abort();
    }
}

static void write_dovecot_config(const char *dir)
{
    strbuf *conf = strbuf_new(1024);
    strbuf *path = strbuf_new(256);

    strbuf_printf(conf,
                  "base_dir = %s/run\nstate_dir = %s/state\nlog_path = %s/dovecot.log\n"
                  "protocols = none\nlisten = 127.0.0.1\nssl = no\n"
                  "auth_mechanisms = plain login\ndisable_plaintext_auth = no\n"
                  "auth_failure_delay = 0\n"
                  "passdb {\n  driver = passwd-file\n"
                  "  args = scheme=PLAIN username_format=%%u %s/users\n}\n"
                  "userdb {\n  driver = static\n  args = uid=65534 gid=65534 home=/nonexistent\n}\n"
                  "service auth {\n  unix_listener %s {\n    mode = 0600\n  }\n}\n",
                  dir, dir, dir, dir, dovecot_socket);
    strbuf_printf(path, "%s/dovecot.conf", dir);
    write_file(path->data, conf->data);
    strbuf_printf(path, "%s/users", dir);
    write_file(path->data, "alice:{PLAIN}secret1\nbob:{PLAIN}hunter2 with spaces\n");
    strbuf_free(conf);
    strbuf_free(path);
}

static int wait_for_socket(const char *path)
{
    struct stat st;

    for (int i = 0; i < 100; i++) {
        if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
            return 0;
        usleep(50000);
    }
    return -1;
}

static int dovecot_setup(void **state)
{
    strbuf *dir = strbuf_new(256);
    strbuf *conf = strbuf_new(256);
    strbuf *socket_path = strbuf_new(256);

    /* Dovecot's auth process runs as an unprivileged user: it must reach the users file. */
    strbuf_printf(dir, "%s/dovecot", unit_temp_dir());
    if (chmod(unit_temp_dir(), 0711) < 0 || mkdir(dir->data, 0755) < 0)
        return -1;
    strbuf_printf(socket_path, "%s/auth-client", dir->data);
    dovecot_socket = strbuf_steal(socket_path);
    strbuf_printf(conf, "%s/dovecot.conf", dir->data);
    write_dovecot_config(dir->data);
    if ((dovecot_pid = fork()) == 0) {
        execl(DOVECOT_BINARY, "dovecot", "-F", "-c", conf->data, (char *) NULL);
        fprintf(stderr, "cannot run %s: %s\n", DOVECOT_BINARY, strerror(errno));
        _exit(127);
    }
    strbuf_free(dir);
    strbuf_free(conf);
    if (dovecot_pid < 0 || wait_for_socket(dovecot_socket) < 0) {
        fprintf(stderr, "dovecot did not create %s\n", dovecot_socket);
        return -1;
    }
    return 0;
}

static int dovecot_teardown(void **state)
{
    if (dovecot_pid > 0) {
        kill(dovecot_pid, SIGTERM);
        waitpid(dovecot_pid, NULL, 0);
    }
    return 0;
}

/*
 * Dovecot delays requests from a remote address that failed recently (its
 * auth penalty): each request below comes from an address of its own.
 */
static sasl_dovecot_request dovecot_request(const char *mechanism, const char *initial)
{
    static char address[64];
    static int counter;
    sasl_dovecot_request request = plain_request;

    snprintf(address, sizeof(address), "192.0.2.%d", ++counter % 250 + 1);
    request.remote_address = address;
    request.local_address = "127.0.0.1";
    request.mechanism = mechanism;
    request.initial_response = initial;
    return request;
}

static sasl_dovecot *dovecot_open(void)
{
    return sasl_dovecot_open(dovecot_socket, TEST_TIMEOUT, 12288);
}

static void test_dovecot_mechanisms(void **state)
{
    sasl_dovecot *server = dovecot_open();
    strbuf *list = strbuf_new(32);
    strbuf *why = strbuf_new(32);

    assert_int_equal(sasl_dovecot_mechanisms(server, SASL_SEC_NOANONYMOUS, NULL, list, why), 0);
    assert_string_equal(list->data, "PLAIN LOGIN");
    assert_int_equal(sasl_dovecot_mechanisms(server, SASL_SEC_NOPLAINTEXT, NULL, list, why), 0);
    assert_string_equal(list->data, "");
    sasl_dovecot_close(server);
    strbuf_free(list);
    strbuf_free(why);
}

static void test_dovecot_plain(void **state)
{
    sasl_dovecot *server = dovecot_open();
    strbuf *text = strbuf_new(32);
    sasl_dovecot_request request = dovecot_request("PLAIN", "AGFsaWNlAHNlY3JldDE=");

    assert_int_equal(sasl_dovecot_start(server, &request, text), SASL_STATUS_OK);
    assert_string_equal(text->data, "alice");
    assert_null(sasl_dovecot_failed_user(server));
    request = dovecot_request("PLAIN", "AGFsaWNlAHdyb25n");     /* \0alice\0wrong */
    assert_int_equal(sasl_dovecot_start(server, &request, text), SASL_STATUS_FAIL);
    assert_string_equal(sasl_dovecot_failed_user(server), "alice");
    request = dovecot_request("PLAIN", "AG5vYm9keQBzZWNyZXQx"); /* \0nobody\0secret1 */
    assert_int_equal(sasl_dovecot_start(server, &request, text), SASL_STATUS_FAIL);
    request = dovecot_request("PLAIN", NULL);   /* credentials after an empty 334 */
    assert_int_equal(sasl_dovecot_start(server, &request, text), SASL_STATUS_CONTINUE);
    assert_string_equal(text->data, "");
    assert_int_equal(sasl_dovecot_continue(server, "AGFsaWNlAHNlY3JldDE=", text),
                     SASL_STATUS_OK);
    assert_string_equal(text->data, "alice");
    sasl_dovecot_close(server);
    strbuf_free(text);
}

static enum sasl_status login_exchange(sasl_dovecot *server, const char *user,
                                       const char *password, strbuf *text)
{
    sasl_dovecot_request request = dovecot_request("LOGIN", NULL);
    strbuf *coded = strbuf_new(32);
    enum sasl_status status;

    assert_int_equal(sasl_dovecot_start(server, &request, text), SASL_STATUS_CONTINUE);
    assert_string_equal(text->data, "VXNlcm5hbWU6");   /* "Username:" */
    strbuf_reset(coded);
    base64_encode(user, strlen(user), coded);
    assert_int_equal(sasl_dovecot_continue(server, coded->data, text), SASL_STATUS_CONTINUE);
    assert_string_equal(text->data, "UGFzc3dvcmQ6");   /* "Password:" */
    strbuf_reset(coded);
    base64_encode(password, strlen(password), coded);
    status = sasl_dovecot_continue(server, coded->data, text);
    strbuf_free(coded);
    return status;
}

static void test_dovecot_login(void **state)
{
    sasl_dovecot *server = dovecot_open();
    strbuf *text = strbuf_new(32);

    assert_int_equal(login_exchange(server, "bob", "hunter2 with spaces", text), SASL_STATUS_OK);
    assert_string_equal(text->data, "bob");
    assert_int_equal(login_exchange(server, "bob", "hunter2", text), SASL_STATUS_FAIL);
    sasl_dovecot_close(server);
    strbuf_free(text);
}

static void test_dovecot_unknown_mechanism_refused(void **state)
{
    sasl_dovecot *server = dovecot_open();
    strbuf *text = strbuf_new(32);
    sasl_dovecot_request request = dovecot_request("CRAM-MD5", NULL);
    sasl_dovecot_request good = dovecot_request("PLAIN", "AGFsaWNlAHNlY3JldDE=");

    assert_int_equal(sasl_dovecot_start(server, &request, text), SASL_STATUS_BAD_MECH);
    request.mechanism = "NO SUCH";
    assert_int_equal(sasl_dovecot_start(server, &request, text), SASL_STATUS_BAD_MECH);
    /* The connection is still good. */
    assert_int_equal(sasl_dovecot_start(server, &good, text), SASL_STATUS_OK);
    sasl_dovecot_close(server);
    strbuf_free(text);
}

static void test_dovecot_abort_then_restart(void **state)
{
    sasl_dovecot *server = dovecot_open();
    strbuf *text = strbuf_new(32);
    sasl_dovecot_request request = dovecot_request("LOGIN", NULL);
    sasl_dovecot_request good = dovecot_request("PLAIN", "AGFsaWNlAHNlY3JldDE=");

    assert_int_equal(sasl_dovecot_start(server, &request, text), SASL_STATUS_CONTINUE);
    sasl_dovecot_abort(server);                 /* the client sent "*" */
    assert_int_equal(sasl_dovecot_continue(server, "AAAA", text), SASL_STATUS_TEMP);
    assert_int_equal(sasl_dovecot_start(server, &good, text), SASL_STATUS_OK);
    /* A new AUTH while one is pending starts over cleanly. */
    assert_int_equal(sasl_dovecot_start(server, &request, text), SASL_STATUS_CONTINUE);
    assert_int_equal(sasl_dovecot_start(server, &good, text), SASL_STATUS_OK);
    assert_string_equal(text->data, "alice");
    sasl_dovecot_close(server);
    strbuf_free(text);
}

int main(void)
{
    const struct CMUnitTest parser_tests[] = {
        cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_handshake_parser),
        cmocka_unit_test(test_handshake_is_bounded),
        cmocka_unit_test(test_reply_parser),
        cmocka_unit_test(test_fail_reply_user),
        cmocka_unit_test(test_fake_server_request_format),
        cmocka_unit_test(test_fake_server_malformed_reply_is_temporary),
        cmocka_unit_test(test_fake_server_overlong_line_is_temporary),
        cmocka_unit_test(test_fake_server_bad_handshake),
        cmocka_unit_test(test_fake_server_fail_reasons),
        cmocka_unit_test(test_client_input_checked_before_sending),
        cmocka_unit_test(test_fake_server_mechanism_list),
        cmocka_unit_test(test_unreachable_server_is_temporary),
    };
    const struct CMUnitTest dovecot_tests[] = {
        cmocka_unit_test(test_dovecot_mechanisms),
        cmocka_unit_test(test_dovecot_plain),
        cmocka_unit_test(test_dovecot_login),
        cmocka_unit_test(test_dovecot_unknown_mechanism_refused),
        cmocka_unit_test(test_dovecot_abort_then_restart),
    };
    int     failed;

    msg_open("postfix/unittest", MSG_TO_STDERR);
    signal(SIGPIPE, SIG_IGN);
    failed = cmocka_run_group_tests_name("sasl_dovecot", parser_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("dovecot", dovecot_tests, dovecot_setup,
                                          dovecot_teardown);
    return failed;
}

/*
 * test_tls_support.h - what the TLS unit tests share: the throw-away PKI
 * (made by test_tls_certs.sh in the scratch directory), main.cf defaults,
 * a server thread and a client on the two ends of a socketpair, and a log
 * file to search.
 *
 * tls_test_setup() makes the certificates once per test program and loads
 * the parameter defaults (an empty main.cf); cert_path("rsa.pem") names a
 * file there (a static buffer, valid until the next few calls).
 * run_pair() runs server(stream, arg) in a thread and client(stream, arg) in
 * the caller, each on its own end of a fresh socketpair, and waits for both;
 * the functions record what they saw in their argument (cmocka assertions
 * belong in the main thread). log_begin() starts a fresh log file and
 * log_contains() searches it.
 */
#ifndef POSTERN_TEST_TLS_SUPPORT_H
#define POSTERN_TEST_TLS_SUPPORT_H

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include "config.h"
#include "mail_params.h"
#include "msg.h"
#include "stream.h"
#include "strbuf.h"

#define TLS_TEST_TIMEOUT 10

typedef void (*peer_fn)(stream *s, void *arg);

static strbuf *tls_test_certs;
static strbuf *tls_test_log;

static const char *cert_path(const char *name)
{
    static strbuf *ring[8];
    static int next;
    strbuf *path;

    if (ring[next] == NULL)
        ring[next] = strbuf_new(256);
    path = ring[next];
    next = (next + 1) % 8;
    strbuf_printf(path, "%s/%s", tls_test_certs->data, name);
    return path->data;
}

/* A file's text without its final newline; the caller frees it. */
static strbuf *read_text(const char *path)
{
    strbuf *text = strbuf_new(256);
    FILE   *fp = fopen(path, "r");
    char    buf[4096];
    size_t  n;

    if (fp == NULL)
        return text;
    while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
        strbuf_append(text, buf, n);
    fclose(fp);
    while (text->len && (strbuf_last(text) == '\n' || strbuf_last(text) == '\r'))
        strbuf_truncate(text, text->len - 1);
    return text;
}

static int tls_test_setup(void **state)
{
    strbuf *command = strbuf_new(512);
    strbuf *script = strbuf_from(__FILE__);
    char   *slash = strrchr(script->data, '/');
    int     status;

    (void) state;
    signal(SIGPIPE, SIG_IGN);
    msg_open("postfix/unittest", 0);
    if (slash)
        strbuf_truncate(script, (size_t) (slash - script->data + 1));
    else
        strbuf_reset(script);
    strbuf_append_str(script, "test_tls_certs.sh");
    tls_test_certs = strbuf_new(256);
    strbuf_printf(tls_test_certs, "%s/certs", unit_temp_dir());
    strbuf_printf(command, "mkdir -p '%s' && sh '%s' '%s'", tls_test_certs->data, script->data,
                  tls_test_certs->data);
    status = system(command->data);
    strbuf_free(command);
    strbuf_free(script);
    if (status != 0) {
        fprintf(stderr, "test_tls_certs.sh failed: see %s/openssl.log\n", tls_test_certs->data);
        return -1;
    }
    unit_temp_file("main.cf", "");
    config_init(unit_temp_dir());
    params_load();
    return 0;
}

typedef struct peer_thread {
    peer_fn fn;
    stream *s;
    void   *arg;
} peer_thread;

static void *peer_thread_main(void *context)
{
    peer_thread *peer = context;

    peer->fn(peer->s, peer->arg);
    return NULL;
}

static void run_pair(peer_fn server, void *server_arg, peer_fn client, void *client_arg)
{
    int     fds[2];
    pthread_t thread;
    peer_thread peer;
    stream *client_stream;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
        abort();
    peer.fn = server;
    peer.s = stream_open_fd(fds[0], TLS_TEST_TIMEOUT);
    peer.arg = server_arg;
    client_stream = stream_open_fd(fds[1], TLS_TEST_TIMEOUT);
    if (pthread_create(&thread, NULL, peer_thread_main, &peer) != 0)
        abort();
    client(client_stream, client_arg);
    stream_close(client_stream);
    pthread_join(thread, NULL);
    stream_close(peer.s);
}

static void log_begin(void)
{
    static int counter;

    if (tls_test_log == NULL)
        tls_test_log = strbuf_new(256);
    strbuf_printf(tls_test_log, "%s/maillog-%d", unit_temp_dir(), counter++);
    if (msg_logfile_open(tls_test_log->data) < 0)
        abort();
}

static int log_contains(const char *text)
{
    strbuf *log = strbuf_new(1024);
    FILE   *fp = fopen(tls_test_log->data, "r");
    char    buf[4096];
    size_t  n;

    while (fp && (n = fread(buf, 1, sizeof(buf), fp)) > 0)
        strbuf_append(log, buf, n);
    if (fp)
        fclose(fp);
    int     found;

    found = strstr(log->data, text) != NULL;
    if (!found)
        fprintf(stderr, "log does not contain \"%s\":\n%s\n", text, log->data);
    strbuf_free(log);
    return found;
}

#endif

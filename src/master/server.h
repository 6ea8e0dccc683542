/*
 * server - the daemon skeleton: every service's main() is one call.
 *
 *     int main(int argc, char **argv)
 *     {
 *         static const server_spec spec = {.service = smtpd_service, ...};
 *
 *         single_server_main(argc, argv, &spec);
 *     }
 *
 * Three kinds of server, all run by master(8) (see docs/master.md for the
 * descriptors and status records they share with it):
 *
 *   single_server_main()   one connection at a time (smtpd, cleanup, local):
 *                          spec.service(stream, ctx) runs once per client;
 *                          the skeleton closes the stream afterwards.
 *   multi_server_main()    many connections in one process (trivial-rewrite,
 *                          proxymap, anvil): spec.service(stream, ctx) runs
 *                          each time a client has input, handles one request
 *                          and returns; it calls multi_server_disconnect()
 *                          when the client is done (EOF, error, QUIT).
 *   trigger_server_main()  woken through a fifo, unix socket or unix-dgram
 *                          socket (pickup, qmgr, flush): spec.trigger(data,
 *                          len, ctx) receives the bytes (at most
 *                          SERVER_TRIGGER_MAX) of one wake-up.
 *
 * Each main() does, in order: parse the options (below) and the spec's own;
 * read main.cf (MAIL_CONFIG) with "service_name" set to the service name and
 * the -o overrides applied; open logging as "$syslog_name/<program>" (the
 * maillog_file descriptor master passed, else syslog; also standard error
 * when that is a terminal); run spec.pre_init as root, outside the chroot
 * (open tables, keys, files); chdir to queue_directory; with -c chroot
 * there; with -u drop to mail_owner (setgroups, setgid, setuid, then verify
 * setuid(0) fails); run spec.post_init; then serve until it is time to go.
 * Started by a user other than root, chroot and privilege drop are skipped.
 *
 * Options master passes: -c (chroot), -u (unprivileged), -n name (service
 * name; default the program name), -t type (inet, unix, unix-dgram, fifo,
 * pass; default unix), -s count (listening descriptors, default 1),
 * -o name=value (main.cf override), -v (more verbose). Option parsing stops
 * at the first non-option; the rest are ctx->args (pipe's "user=... argv=...").
 * spec.options adds daemon-specific options; each handler runs while the
 * options are parsed, before main.cf is read.
 *
 * A process exits (status 0) after max_idle seconds without work, after
 * max_use clients (or triggers), when master goes away or reloads (after
 * finishing what it is doing), or after server_exit_when_idle(). Services
 * flagged SERVER_FLAG_RESIDENT (qmgr) ignore max_idle and max_use.
 *
 * spec.pre_accept, when set, runs each time a client or trigger is waiting,
 * before it is taken; it may call server_exit_when_idle(), and the waiting
 * client is then left for a fresh process. The skeleton itself does that
 * when a lookup table this process opened changed on disk and cannot be
 * reopened in place (chroot): "table NAME has changed -- restarting". A
 * multi server also checks before each request of a connected client and
 * drops the client unread, so it retries against a fresh process.
 *
 * server_event_base() is the libevent loop the skeleton runs: multi and
 * trigger servers add their own events and timers to it (from post_init
 * on). Callbacks must not block for long. The loop has
 * SERVER_EVENT_PRIORITIES priorities; events run at the middle one unless
 * given SERVER_PRIORITY_BACKGROUND (event_priority_set), which runs only
 * when no other event is ready: qmgr takes new mail in that way, so
 * answering delivery agents always comes first.
 *
 * Errors: bad options, configuration or privilege problems are fatal
 * (logged, exit 1), so master throttles a service that cannot start.
 */
#ifndef POSTERN_SERVER_H
#define POSTERN_SERVER_H

#include <stddef.h>

#include "stream.h"

struct event_base;

#define SERVER_TRIGGER_MAX   1024

#define SERVER_FLAG_RESIDENT (1 << 0)   /* never exit for max_idle/max_use */

typedef struct server_ctx {
    const char *service_name;           /* master.cf service name */
    const char *service_type;           /* master.cf type column */
    char  *const *args;                 /* non-option arguments, NULL-terminated */
    size_t  arg_count;
} server_ctx;

typedef void (*server_init_fn)(const server_ctx *ctx);
typedef void (*server_stream_fn)(stream *client, const server_ctx *ctx);
typedef void (*server_trigger_fn)(const char *data, size_t len, const server_ctx *ctx);

typedef struct server_option {
    int     letter;                     /* 0 ends the table */
    int     takes_argument;
    void  (*handler)(const char *argument);     /* NULL argument if none */
} server_option;

typedef struct server_spec {
    server_init_fn pre_init;            /* as root, before chroot; optional */
    server_init_fn post_init;           /* after the privilege drop; optional */
    server_stream_fn service;           /* single and multi servers */
    server_trigger_fn trigger;          /* trigger servers */
    server_init_fn pre_accept;          /* optional */
    int     flags;                      /* SERVER_FLAG_* */
    const server_option *options;       /* optional */
} server_spec;

void    single_server_main(int argc, char **argv, const server_spec *spec)
    __attribute__((noreturn));
void    multi_server_main(int argc, char **argv, const server_spec *spec)
    __attribute__((noreturn));
void    trigger_server_main(int argc, char **argv, const server_spec *spec)
    __attribute__((noreturn));

#define SERVER_EVENT_PRIORITIES     3
#define SERVER_PRIORITY_BACKGROUND  2

struct event_base *server_event_base(void);
void    server_exit_when_idle(void);
void    multi_server_disconnect(stream *client);

#endif

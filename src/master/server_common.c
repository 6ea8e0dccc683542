/*
 * server_common - start-up, status reporting and the event loop shared by
 * the single, multi and trigger servers. See server.h and server_internal.h.
 *
 * Memory: the context strings point into argv or live for the process.
 * Errors: anything wrong before serving starts is fatal.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "argv.h"
#include "child_proto.h"
#include "config.h"
#include "mail_params.h"
#include "master_cf.h"
#include "mem.h"
#include "map.h"
#include "msg.h"
#include "server_internal.h"
#include "server_privilege.h"
#include "sock.h"

#define SERVER_LISTEN_MAX  1024

server_ctx server_context;
const server_spec *server_spec_in_use;
service_kind server_kind;

static const char *program_name;
static struct event_base *event_base;
static struct event *idle_timer;
static struct event *master_watch;
static struct event **listen_events;
static void (*ready_handler)(int listen_fd);
static int listen_count = 1;
static int master_present;              /* a status channel exists */
static int master_gone;
static int exit_requested;
static int exit_reported;
static int use_count;
static int (*skeleton_is_idle)(void);
static server_privilege privilege;

/* Options ------------------------------------------------------------------ */

static const char builtin_options[] = "cn:o:s:t:uv";

static const server_option *find_option(int letter)
{
    const server_option *opt = server_spec_in_use->options;

    for (; opt && opt->letter; opt++)
        if (opt->letter == letter)
            return opt;
    return NULL;
}

static char *build_optstring(void)
{
    strbuf *text = strbuf_from("+");
    const server_option *opt = server_spec_in_use->options;

    strbuf_append_str(text, builtin_options);
    for (; opt && opt->letter; opt++) {
        if (strchr(builtin_options, opt->letter) || opt->letter == ':' || opt->letter == '+')
            msg_panic("server: option -%c is reserved by the skeleton", opt->letter);
        strbuf_append_char(text, opt->letter);
        if (opt->takes_argument)
            strbuf_append_char(text, ':');
    }
    return strbuf_steal(text);
}

static int parse_count(const char *text)
{
    char   *end;
    long    value;

    errno = 0;
    value = strtol(text, &end, 10);
    if (*text == 0 || *end || errno || value < 1 || value > SERVER_LISTEN_MAX)
        msg_fatal("bad listening socket count: -s %s", text);
    return (int) value;
}

static void parse_options(int argc, char **argv, argv_t *overrides)
{
    char   *optstring = build_optstring();
    const server_option *opt;
    int     ch;

    opterr = 0;
    while ((ch = getopt(argc, argv, optstring)) != -1) {
        switch (ch) {
        case 'c': privilege.chroot = 1; break;
        case 'n': server_context.service_name = optarg; break;
        case 'o': argv_add(overrides, optarg); break;
        case 's': listen_count = parse_count(optarg); break;
        case 't': server_context.service_type = optarg; break;
        case 'u': privilege.unprivileged = 1; break;
        case 'v': msg_verbose++; break;
        case '?': msg_fatal("invalid option or missing argument: -%c", optopt);
        default:
            if ((opt = find_option(ch)) == NULL)
                msg_panic("server: option -%c has no handler", ch);
            opt->handler(opt->takes_argument ? optarg : NULL);
        }
    }
    free(optstring);
    server_context.args = argv + optind;
    server_context.arg_count = (size_t) (argc - optind);
}

static service_kind kind_of_type(const char *type)
{
    static const struct {
        const char *type;
        service_kind kind;
    } kinds[] = {
        {"inet", SERVICE_INET}, {"unix", SERVICE_UNIX}, {"unix-dgram", SERVICE_UNIX_DGRAM},
        {"fifo", SERVICE_FIFO}, {"pass", SERVICE_PASS},
    };

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].type, type) == 0)
            return kinds[i].kind;
    msg_fatal("unknown service type: -t %s", type);
}

/* Logging and configuration ---------------------------------------------- */

static int log_file_passed(void)
{
    const char *value = getenv(CHILD_ENV_LOG_FD);

    return value && atoi(value) == CHILD_LOG_FD && fcntl(CHILD_LOG_FD, F_GETFD) >= 0;
}

static void open_logging(const char *syslog_name)
{
    strbuf *ident = strbuf_new(64);
    int     destinations = isatty(STDERR_FILENO) ? MSG_TO_STDERR : 0;

    if (log_file_passed()) {
        msg_logfile_use_fd(CHILD_LOG_FD);
        sock_set_cloexec(CHILD_LOG_FD, 1);
    } else {
        destinations |= MSG_TO_SYSLOG;
    }
    strbuf_printf(ident, "%s/%s", syslog_name, program_name);
    msg_open(ident->data, destinations);
    strbuf_free(ident);
}

static void load_configuration(const argv_t *overrides)
{
    config_init(NULL);
    config_set_override("service_name", server_context.service_name);
    for (size_t i = 0; i < overrides->count; i++)
        if (config_parse_override(overrides->items[i]) < 0)
            msg_fatal("invalid \"-o %s\" option value: need name=value", overrides->items[i]);
    params_load();
}

/* Master's descriptors ----------------------------------------------------- */

static void check_listeners(void)
{
    for (int i = 0; i < listen_count; i++) {
        int     fd = CHILD_LISTEN_FD + i;

        if (fcntl(fd, F_GETFD) < 0)
            msg_fatal("no listening socket on descriptor %d: this program is run by master(8)",
                      fd);
        sock_set_cloexec(fd, 1);
    }
    master_present = fcntl(CHILD_STATUS_FD, F_GETFD) >= 0;
    if (master_present)
        sock_set_cloexec(CHILD_STATUS_FD, 1);
}

/* True when master closed its end of the status pipe (reload or exit). */
static int master_has_gone(void)
{
    struct pollfd pfd = {.fd = CHILD_STATUS_FD,.events = POLLOUT };

    if (master_present && !master_gone && poll(&pfd, 1, 0) > 0
        && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)))
        master_gone = 1;
    return master_gone;
}

void server_report(int status)
{
    char    record[CHILD_STATUS_SIZE];

    if (!master_present || master_gone || exit_reported)
        return;
    if (status == CHILD_STATUS_EXIT)
        exit_reported = 1;
    child_status_format(record, getpid(), status);
    if (write(CHILD_STATUS_FD, record, sizeof(record)) != (ssize_t) sizeof(record)) {
        if (msg_verbose)
            msg_info("status channel: %m");
        master_gone = 1;
        exit_requested = 1;
    }
}

void server_exit(void)
{
    server_report(CHILD_STATUS_EXIT);
    exit(0);
}

/* Life cycle --------------------------------------------------------------- */

static int should_exit(void)
{
    return exit_requested || master_gone
        || (!(server_spec_in_use->flags & SERVER_FLAG_RESIDENT) && use_count >= var_max_use);
}

void server_stop_accepting(void)
{
    for (int i = 0; listen_events && i < listen_count; i++)
        event_del(listen_events[i]);
    server_report(CHILD_STATUS_EXIT);
}

void server_exit_when_idle(void)
{
    exit_requested = 1;
    if (listen_events) {
        server_stop_accepting();
        if (skeleton_is_idle())
            server_exit();
    }
}

void server_count_use(void)
{
    use_count++;
    if (should_exit())
        server_stop_accepting();
}

void server_work_begins(void)
{
    event_del(idle_timer);
}

void server_work_ends(void)
{
    struct timeval tv = {.tv_sec = var_max_idle };

    if (should_exit())
        server_exit();
    if (!(server_spec_in_use->flags & SERVER_FLAG_RESIDENT))
        event_add(idle_timer, &tv);
}

static void idle_timeout(evutil_socket_t fd, short what, void *context)
{
    if (msg_verbose)
        msg_info("idle timeout -- exiting");
    server_exit();
}

static void master_went_away(evutil_socket_t fd, short what, void *context)
{
    if (msg_verbose)
        msg_info("master disconnect -- exiting");
    master_gone = 1;
    event_del(master_watch);
    server_stop_accepting();
    if (skeleton_is_idle())
        server_exit();
}

int server_tables_changed(void)
{
    const char *changed;

    if (exit_requested || (changed = map_changed_name()) == NULL)
        return exit_requested;
    msg_info("table %s has changed -- restarting", changed);
    server_exit_when_idle();
    return 1;
}

int server_may_accept(void)
{
    if (master_has_gone()) {
        master_went_away(CHILD_STATUS_FD, 0, NULL);
        return 0;
    }
    if (server_spec_in_use->pre_accept)
        server_spec_in_use->pre_accept(&server_context);
    (void) server_tables_changed();
    if (exit_requested) {
        server_stop_accepting();
        if (skeleton_is_idle())
            server_exit();
        return 0;
    }
    return 1;
}

static int receive_passed(int channel)
{
    int     fd = -1;

    if (fd_wait(channel, POLLIN, var_ipc_timeout) == 0 && (fd = sock_recv_fd(channel)) < 0)
        msg_warn("receive passed connection: %m");
    close(channel);
    return fd;
}

int server_accept_client(int listen_fd)
{
    int     fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

    if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
            && errno != ECONNABORTED)
            msg_warn("accept connection: %m");
        return -1;
    }
    return server_kind == SERVICE_PASS ? receive_passed(fd) : fd;
}

struct event_base *server_event_base(void)
{
    return event_base;
}

void server_start(int argc, char **argv, const server_spec *spec, int (*is_idle)(void))
{
    argv_t *overrides = argv_new(4);
    const char *slash = strrchr(argv[0], '/');

    server_spec_in_use = spec;
    skeleton_is_idle = is_idle;
    program_name = slash ? slash + 1 : argv[0];
    server_context.service_name = program_name;
    server_context.service_type = "unix";
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    open_logging("postfix");
    parse_options(argc, argv, overrides);
    server_kind = kind_of_type(server_context.service_type);
    load_configuration(overrides);
    argv_free(overrides);
    open_logging(var_syslog_name);
    check_listeners();
    if ((event_base = event_base_new()) == NULL
        || event_base_priority_init(event_base, SERVER_EVENT_PRIORITIES) < 0)
        msg_fatal("cannot create an event loop");
    if (spec->pre_init)
        spec->pre_init(&server_context);
    server_drop_privileges(&privilege);
    if (spec->post_init)
        spec->post_init(&server_context);
}

static void listen_ready(evutil_socket_t fd, short what, void *context)
{
    ready_handler(fd);
}

void server_run(void (*ready)(int listen_fd))
{
    ready_handler = ready;
    listen_events = xcalloc((size_t) listen_count, sizeof(struct event *));
    for (int i = 0; i < listen_count; i++) {
        int     fd = CHILD_LISTEN_FD + i;

        sock_set_nonblock(fd, 1);
        listen_events[i] = event_new(event_base, fd, EV_READ | EV_PERSIST, listen_ready,
                                     NULL);
        event_add(listen_events[i], NULL);
    }
    idle_timer = evtimer_new(event_base, idle_timeout, NULL);
    if (master_present) {
        master_watch = event_new(event_base, CHILD_STATUS_FD, EV_READ | EV_PERSIST,
                                 master_went_away, NULL);
        event_add(master_watch, NULL);
    }
    server_work_ends();
    if (event_base_dispatch(event_base) < 0)
        msg_fatal("event loop failed");
    server_exit();
}

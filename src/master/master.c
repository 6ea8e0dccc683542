/*
 * master - the Postern supervisor: runs the services of master.cf.
 *
 *     master [-dtvw] [-c config_dir]
 *
 * -c  configuration directory (else $MAIL_CONFIG, else the default)
 * -d  stay in the foreground with standard input, output and error
 *     (postfix start-fg, debugging)
 * -w  detach, and let the foreground process exit 0 only once the daemon
 *     has bound every socket and serves (postfix start); exit 1 if the
 *     daemon fails to initialize
 * -t  test: exit 0 when no master runs for this configuration, 1 when one does
 * -v  more verbose logging, also passed on to every child
 * Without -d or -w, master detaches without waiting.
 *
 * Start-up: read main.cf and master.cf (errors are fatal and name file and
 * line), check mail_owner (must exist and must not be root), take the
 * instance locks (instance_lock.h), copy /etc files into the chroot jail,
 * create every listening endpoint, then log "daemon started -- version V,
 * configuration DIR" and serve. Started by a user other than root it runs
 * as that user, without chroot or privilege changes for children, and says
 * so once.
 *
 * Signals: SIGHUP reloads (master_reload.c); SIGTERM, SIGINT and SIGQUIT
 * log "terminating on signal N", close the listening sockets, send SIGTERM
 * to every child, wait for them (SIGKILL after MASTER_STOP_GRACE seconds),
 * remove master.pid and exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <event2/event.h>

#include "child_proto.h"
#include "config.h"
#include "instance_lock.h"
#include "mail_params.h"
#include "maillog.h"
#include "master.h"
#include "master_cf.h"
#include "mem.h"
#include "msg.h"
#include "stream.h"

#define MASTER_STOP_GRACE     5         /* seconds before SIGKILL at shutdown */
#define MASTER_READY_TIMEOUT  60        /* seconds "master -w" waits */

struct event_base *master_base;
master_serv *master_services;
int     master_stopping;
int     master_is_root;
uid_t   master_owner_uid;
gid_t   master_owner_gid;
argv_t *master_child_env;

static int locks_held;
static struct event *stop_timer;

/* Configuration ------------------------------------------------------------ */

int master_inet_families(strbuf *why)
{
    int     families;
    int     probe;

    if (service_parse_protocols(var_inet_protocols, &families, why) < 0)
        return -1;
    if ((families & SERVICE_IPV6) && (probe = socket(AF_INET6, SOCK_STREAM, 0)) < 0) {
        msg_warn("inet_protocols: disabling IPv6 name/address support: %m");
        families &= ~SERVICE_IPV6;
    } else if (families & SERVICE_IPV6) {
        close(probe);
    }
    if (families == 0) {
        strbuf_set(why, "inet_protocols: no usable protocol");
        return -1;
    }
    return families;
}

void master_build_child_env(void)
{
    argv_free(master_child_env);
    master_child_env = child_environment(var_import_environment, config_dir(),
                                         msg_logfile_fd() >= 0);
}

/* mail_owner must exist (as root) and must never be root. */
static void check_mail_owner(void)
{
    struct passwd *pw = getpwnam(var_mail_owner);

    if (pw && pw->pw_uid == 0)
        msg_fatal("file %s: parameter mail_owner: user %s has privileged user ID",
                  config_main_cf_path(), var_mail_owner);
    if (!master_is_root) {
        master_owner_uid = getuid();
        master_owner_gid = getgid();
        return;
    }
    if (pw == NULL)
        msg_fatal("file %s: parameter mail_owner: unknown user name value: %s",
                  config_main_cf_path(), var_mail_owner);
    master_owner_uid = pw->pw_uid;
    master_owner_gid = pw->pw_gid;
}

static service_table *read_services(void)
{
    strbuf *error = strbuf_new(128);
    strbuf *path = strbuf_new(128);
    master_cf *mcf;
    service_table *table = NULL;
    int     families = master_inet_families(error);

    strbuf_printf(path, "%s/master.cf", config_dir());
    if (families >= 0 && (mcf = master_cf_read(path->data, error)) != NULL) {
        table = service_table_build(mcf, families, error);
        master_cf_free(mcf);
    }
    if (table == NULL)
        msg_fatal("%s", error->data);
    for (size_t i = 0; i < table->warnings->count; i++)
        msg_warn("%s", table->warnings->items[i]);
    strbuf_free(error);
    strbuf_free(path);
    return table;
}

/* Detaching ---------------------------------------------------------------- */

/* The foreground half of -w: exit 0 once the daemon says it is ready. */
static void wait_for_daemon(int ready_fd) __attribute__((noreturn));

static void wait_for_daemon(int ready_fd)
{
    char    byte;

    if (fd_wait(ready_fd, POLLIN, MASTER_READY_TIMEOUT) == 0 && read(ready_fd, &byte, 1) == 1)
        _exit(0);
    _exit(1);
}

/* Forks; the parent either waits for readiness (-w) or just exits. */
static int detach(int wait_ready)
{
    int     ready[2] = {-1, -1};
    pid_t   pid;

    if (wait_ready && pipe2(ready, O_CLOEXEC) < 0)
        msg_fatal("pipe: %m");
    if ((pid = fork()) < 0)
        msg_fatal("fork: %m");
    if (pid > 0) {
        if (!wait_ready)
            _exit(0);
        close(ready[1]);
        wait_for_daemon(ready[0]);
    }
    if (wait_ready)
        close(ready[0]);
    if (setsid() < 0)
        msg_fatal("setsid: %m");
    return ready[1];
}

static void release_stdio(void)
{
    int     fd = open("/dev/null", O_RDWR);

    if (fd < 0)
        msg_fatal("open /dev/null: %m");
    for (int i = 0; i < 3; i++)
        if (fd != i && dup2(fd, i) < 0)
            msg_fatal("dup2: %m");
    if (fd > 2)
        close(fd);
}

/* Shutdown ----------------------------------------------------------------- */

static void cleanup(void)
{
    if (locks_held)
        instance_lock_release();
}

void master_check_finished(void)
{
    if (master_stopping && master_proc_count() == 0) {
        cleanup();
        exit(0);
    }
}

static void stop_grace_over(evutil_socket_t fd, short what, void *context)
{
    master_signal_children(NULL, SIGKILL);
}

static void begin_shutdown(int sig)
{
    struct timeval grace = {.tv_sec = MASTER_STOP_GRACE };

    if (master_stopping)
        return;
    msg_info("terminating on signal %d", sig);
    master_stopping = 1;
    master_close_all_endpoints();
    master_signal_children(NULL, SIGTERM);
    stop_timer = evtimer_new(master_base, stop_grace_over, NULL);
    evtimer_add(stop_timer, &grace);
    master_check_finished();
}

static void on_signal(evutil_socket_t sig, short what, void *context)
{
    switch (sig) {
    case SIGCHLD:
        master_reap();
        break;
    case SIGHUP:
        if (!master_stopping)
            master_reload();
        break;
    default:
        begin_shutdown((int) sig);
    }
}

static void watch_signals(void)
{
    static const int signals[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT};

    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
        struct event *ev = evsignal_new(master_base, signals[i], on_signal, NULL);

        if (ev == NULL || event_add(ev, NULL) < 0)
            msg_fatal("cannot watch signal %d", signals[i]);
    }
}

/* Start-up ------------------------------------------------------------------ */

typedef struct master_options {
    const char *config_dir;
    int     foreground;
    int     wait_ready;
    int     test_only;
} master_options;

static void parse_options(int argc, char **argv, master_options *opts)
{
    int     ch;

    while ((ch = getopt(argc, argv, "c:dtvw")) != -1) {
        switch (ch) {
        case 'c': opts->config_dir = optarg; break;
        case 'd': opts->foreground = 1; break;
        case 't': opts->test_only = 1; break;
        case 'v': msg_verbose++; break;
        case 'w': opts->wait_ready = 1; break;
        default: msg_fatal_status(EX_USAGE, "usage: master [-dtvw] [-c config_dir]");
        }
    }
    if (optind != argc)
        msg_fatal_status(EX_USAGE, "usage: master [-dtvw] [-c config_dir]");
}

static void open_logging(void)
{
    strbuf *ident = strbuf_new(64);
    strbuf *why = strbuf_new(64);
    int     logfile;

    strbuf_printf(ident, "%s/master", var_syslog_name);
    msg_open(ident->data, MSG_TO_STDERR);
    if ((logfile = maillog_open(why)) < 0)
        msg_fatal("%s", why->data);
    msg_set_destinations(MSG_TO_STDERR | (logfile ? 0 : MSG_TO_SYSLOG));
    strbuf_free(ident);
    strbuf_free(why);
}

static void warn_not_root(void)
{
    struct passwd *pw = getpwuid(getuid());

    msg_warn("not running as root: services run as %s, without chroot or privilege "
             "changes (development instance)", pw ? pw->pw_name : "this user");
}

static void take_locks(void)
{
    strbuf *why = strbuf_new(128);

    if (instance_lock_acquire(var_queue_directory, var_data_directory,
                              master_owner_uid, master_owner_gid, why) < 0)
        msg_fatal("%s", why->data);
    locks_held = 1;
    msg_set_exit_hook(cleanup);
    strbuf_free(why);
}

static void start_services(service_table *table)
{
    strbuf *why = strbuf_new(128);

    if ((master_base = event_base_new()) == NULL)
        msg_fatal("cannot create an event loop");
    /* Before any endpoint exists: a SIGTERM sent as soon as the port answers
     * must be a clean shutdown, not the default action. */
    watch_signals();
    master_build_child_env();
    if (master_apply_services(table, why) < 0)
        msg_fatal("%s", why->data);
    service_table_free(table);
    strbuf_free(why);
}

int main(int argc, char **argv)
{
    master_options opts = {0};
    service_table *table;
    int     ready_fd = -1;
    pid_t   running;

    msg_open("postfix/master", MSG_TO_STDERR);
    parse_options(argc, argv, &opts);
    umask(022);
    config_init(opts.config_dir);
    params_load();
    if (opts.test_only)
        return instance_running(var_queue_directory, var_data_directory, &running);
    open_logging();
    master_is_root = geteuid() == 0;
    check_mail_owner();
    table = read_services();
    if (!opts.foreground)
        ready_fd = detach(opts.wait_ready);
    take_locks();
    if (master_is_root)
        master_prepare_jail();
    else
        warn_not_root();
    start_services(table);
    msg_set_destinations(msg_logfile_fd() >= 0 ? 0 : MSG_TO_SYSLOG);
    msg_info("daemon started -- version %s, configuration %s", var_mail_version, config_dir());
    if (!opts.foreground)
        release_stdio();
    if (ready_fd >= 0 && (write(ready_fd, "R", 1) != 1 || close(ready_fd) < 0))
        msg_fatal("cannot tell the waiting process that master is ready: %m");
    if (event_base_dispatch(master_base) < 0)
        msg_fatal("event loop failed");
    cleanup();
    return 0;
}

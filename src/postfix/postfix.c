/*
 * postfix - control the mail system: start, stop, reload, check, ...
 *
 *     postfix [-v] [-c config_dir] command
 *
 * Commands, messages and exit status (0 success, 1 failure) as Postfix's
 * postfix(1):
 *
 *   start      "postfix check", then master -w: returns once master has
 *              bound its sockets and serves; refused when already running
 *   start-fg   the same, then becomes master in the foreground (master -d)
 *   stop       SIGTERM to master, then waits (at most STOP_WAIT seconds,
 *              then SIGKILL) until master and its children are gone
 *   abort      SIGTERM to master without waiting
 *   reload     checks master.cf, then SIGHUP to master
 *   status     exit 0 when running ("... is running: PID: N"), else 1
 *   check      postfix_check.c, then $command_directory/postsuper (its -s
 *              and -p: queue files in the right place, and what crashed
 *              writers left half written removed), as Postfix's
 *              postfix-script does; a postsuper failure is fatal
 *   flush      runs $command_directory/postqueue -f
 *   set-permissions   owners and modes of the queue and data directories
 *
 * Messages go to standard error and to the maillog_file (or syslog) under
 * "$syslog_name/postfix-script", the name Postfix's script logs with.
 * master runs with a clean environment: import_environment plus
 * MAIL_CONFIG, the configuration directory in use.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "child_proto.h"
#include "config.h"
#include "instance_lock.h"
#include "mail_params.h"
#include "maillog.h"
#include "mem.h"
#include "msg.h"
#include "postfix.h"
#include "strbuf.h"

#define STOP_WAIT        10             /* seconds before stop uses force */
#define POLL_INTERVAL_MS 100

static const char usage_text[] =
    "usage: postfix [-c config_dir] [-v] command";
static const char commands_text[] =
    "start (or start-fg, stop, reload, abort, flush, check, status, set-permissions)";

/* Master ------------------------------------------------------------------ */

static pid_t running_master(void)
{
    pid_t   pid;

    return instance_running(var_queue_directory, var_data_directory, &pid) ? pid : 0;
}

static pid_t require_running(void)
{
    pid_t   pid = running_master();

    if (pid == 0)
        msg_fatal("the Postfix mail system is not running");
    return pid;
}

static void master_argv(argv_t *args, const char *mode)
{
    strbuf *path = strbuf_new(128);

    strbuf_printf(path, "%s/master", var_daemon_directory);
    argv_add(args, path->data);
    argv_add(args, mode);
    for (int i = 0; i < msg_verbose; i++)
        argv_add(args, "-v");
    strbuf_free(path);
}

/* Runs a program, waits and returns its exit status (-1: no status). */
static int run_program(argv_t *args, argv_t *env)
{
    pid_t   pid = fork();
    int     status;

    if (pid < 0)
        msg_fatal("fork: %m");
    if (pid == 0) {
        execve(args->items[0], args->items, env->items);
        msg_fatal("cannot execute %s: %m", args->items[0]);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs $command_directory/NAME [OPTION] from the queue directory; its exit status. */
static int run_command_program(const char *name, const char *option)
{
    argv_t *args = argv_new(2);
    argv_t *env;
    strbuf *path = strbuf_new(128);
    int     result;

    if (chdir(var_queue_directory) < 0)
        msg_fatal("no Postfix queue directory %s!", var_queue_directory);
    strbuf_printf(path, "%s/%s", var_command_directory, name);
    if (access(path->data, X_OK) < 0)
        msg_fatal("cannot execute %s: %m", path->data);
    argv_add(args, path->data);
    if (option)
        argv_add(args, option);
    env = child_environment(var_import_environment, config_dir(), 0);
    result = run_program(args, env);
    argv_free(args);
    argv_free(env);
    strbuf_free(path);
    return result;
}

/* postfix_check(), then postsuper's structure check and purge. */
static void check_all(void)
{
    postfix_check();
    if (run_command_program("postsuper", NULL) != 0)
        msg_fatal("Postfix integrity check failed!");
}

static void start(int foreground)
{
    argv_t *args = argv_new(4);
    argv_t *env = child_environment(var_import_environment, config_dir(), 0);

    if (running_master())
        msg_fatal("the Postfix mail system is already running");
    check_all();
    msg_info("starting the Postfix mail system");
    master_argv(args, foreground ? "-d" : "-w");
    if (foreground) {
        execve(args->items[0], args->items, env->items);
        msg_fatal("cannot start-fg the master daemon: %s: %m", args->items[0]);
    }
    if (run_program(args, env) != 0)
        msg_fatal("mail system startup failed");
    argv_free(args);
    argv_free(env);
}

static void pause_briefly(void)
{
    struct timespec ts = {.tv_sec = 0,.tv_nsec = POLL_INTERVAL_MS * 1000000L };

    nanosleep(&ts, NULL);
}

/* Waits until no master holds the locks; 1 when gone within seconds. */
static int wait_until_stopped(int seconds, int report)
{
    int     polls_per_second = 1000 / POLL_INTERVAL_MS;

    for (int poll = 1; poll <= seconds * polls_per_second; poll++) {
        if (!running_master())
            return 1;
        if (report && poll % polls_per_second == 0)
            msg_info("waiting for the Postfix mail system to terminate");
        pause_briefly();
    }
    return !running_master();
}

static void stop(void)
{
    pid_t   pid = require_running();

    msg_info("stopping the Postfix mail system");
    if (kill(pid, SIGTERM) < 0)
        msg_fatal("cannot signal master process %ld: %m", (long) pid);
    if (wait_until_stopped(STOP_WAIT, 1))
        return;
    msg_warn("stopping the Postfix mail system with force");
    (void) kill(-pid, SIGKILL);
    (void) kill(pid, SIGKILL);
    if (!wait_until_stopped(2, 0))
        msg_fatal("the Postfix mail system did not stop");
}

static void signal_master(int sig, const char *what)
{
    pid_t   pid = require_running();

    msg_info("%s the Postfix mail system", what);
    if (kill(pid, sig) < 0)
        msg_fatal("cannot signal master process %ld: %m", (long) pid);
}

static int status(void)
{
    pid_t   pid = running_master();

    if (pid == 0) {
        msg_info("the Postfix mail system is not running");
        return 1;
    }
    msg_info("the Postfix mail system is running: PID: %ld", (long) pid);
    return 0;
}

static int flush(void)
{
    return run_command_program("postqueue", "-f") == 0 ? 0 : 1;
}

static void set_permissions(int argc, char **argv)
{
    postfix_ids ids;

    if (argc > 0)
        msg_fatal("set-permissions: name=value arguments are not supported; "
                  "edit main.cf, then run \"postfix set-permissions\"");
    postfix_lookup_ids(&ids);
    postfix_set_permissions(&ids);
}

/* Set-up ------------------------------------------------------------------ */

/* True when the log file is where standard error goes (maillog_file = /dev/stderr...). */
static int log_file_is_stderr(void)
{
    struct stat log_st;
    struct stat err_st;

    return fstat(msg_logfile_fd(), &log_st) == 0 && fstat(STDERR_FILENO, &err_st) == 0
        && log_st.st_dev == err_st.st_dev && log_st.st_ino == err_st.st_ino;
}

/* Messages go to standard error and to the log, but never twice to one place. */
static void open_logging(void)
{
    strbuf *ident = strbuf_new(64);
    strbuf *why = strbuf_new(64);
    int     logfile;

    strbuf_printf(ident, "%s/postfix-script", var_syslog_name);
    msg_open(ident->data, MSG_TO_STDERR);
    if ((logfile = maillog_open(why)) <= 0)
        msg_set_destinations(MSG_TO_STDERR | MSG_TO_SYSLOG);
    else if (log_file_is_stderr())
        msg_set_destinations(0);
    strbuf_free(ident);
    strbuf_free(why);
}

static int start_command(void)
{
    start(0);
    return 0;
}

static int start_fg_command(void)
{
    start(1);
    return 0;
}

static int stop_command(void)
{
    stop();
    return 0;
}

static int abort_command(void)
{
    signal_master(SIGTERM, "aborting");
    return 0;
}

static int reload_command(void)
{
    postfix_check_master_cf();
    signal_master(SIGHUP, "refreshing");
    return 0;
}

static int check_command(void)
{
    check_all();
    return 0;
}

static const struct {
    const char *name;
    int     (*run)(void);
} commands[] = {
    {"start", start_command}, {"start-fg", start_fg_command}, {"stop", stop_command},
    {"abort", abort_command}, {"reload", reload_command}, {"status", status},
    {"check", check_command}, {"flush", flush},
};

static int run_command(const char *command, int argc, char **argv)
{
    if (strcmp(command, "set-permissions") == 0) {
        set_permissions(argc, argv);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(command, commands[i].name) == 0) {
            if (argc > 0)
                msg_fatal("usage: postfix %s (no arguments)", command);
            return commands[i].run();
        }
    }
    msg_fatal("unknown command: '%s'. Usage: postfix %s", command, commands_text);
}

int main(int argc, char **argv)
{
    const char *directory = NULL;
    int     ch;

    msg_open("postfix", MSG_TO_STDERR);
    while ((ch = getopt(argc, argv, "c:v")) != -1) {
        switch (ch) {
        case 'c': directory = optarg; break;
        case 'v': msg_verbose++; break;
        default: msg_fatal("%s", usage_text);
        }
    }
    if (optind >= argc)
        msg_fatal("%s", usage_text);
    config_init(directory);
    params_load();
    if (setenv("MAIL_CONFIG", config_dir(), 1) < 0)
        msg_fatal("setenv: %m");
    umask(022);
    open_logging();
    return run_command(argv[optind], argc - optind - 1, argv + optind + 1);
}

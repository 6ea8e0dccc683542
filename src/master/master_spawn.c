/*
 * master_spawn - fork children, keep the process table, reap. See master.h.
 *
 * A child gets exactly the descriptors of child_proto.h (everything else is
 * close-on-exec, and closed again before exec), default signal handling,
 * an empty signal mask and the environment in master_child_env. Master
 * never runs a shell: the program is exec'd directly from daemon_directory.
 *
 * Reaping logs abnormal exits as Postfix does ("process PATH pid N exit
 * status S", "... killed by signal S"). A process that fails before it ever
 * took work means the service cannot start: the service is throttled for
 * service_throttle_time ("PATH: bad command startup -- throttling") instead
 * of being forked again and again.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_proto.h"
#include "master.h"
#include "mem.h"
#include "msg.h"

static master_proc *proc_table;

size_t master_proc_count(void)
{
    size_t  count = 0;

    for (master_proc *proc = proc_table; proc; proc = proc->next)
        count++;
    return count;
}

/* Child side ------------------------------------------------------------- */

static void child_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* Logs like msg_fatal but skips master's exit hook: this is not master. */
static void child_fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_FATAL, fmt, ap);
    va_end(ap);
    _exit(1);
}

static void reset_signals(void)
{
    sigset_t none;

    for (int sig = 1; sig < NSIG; sig++)
        (void) signal(sig, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * Moves the child's descriptors into place: first copies above every
 * target number (so no source is overwritten early), then dup2 onto the
 * targets, which also clears close-on-exec on them. The logger follows
 * the log file descriptor, so an exec failure is still logged.
 */
static void place_descriptors(master_serv *svc)
{
    int     count = CHILD_LISTEN_FD + (int) svc->def->endpoint_count;
    int    *copies = xcalloc((size_t) count, sizeof(int));
    int     null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);

    if (null_fd < 0)
        child_fatal("open /dev/null: %m");
    for (int target = 0; target < count; target++) {
        int     source;

        if (target < CHILD_STATUS_FD)
            source = null_fd;
        else if (target == CHILD_STATUS_FD)
            source = svc->status_pipe[1];
        else if (target == CHILD_LOG_FD)
            source = msg_logfile_fd();
        else
            source = svc->endpoints[target - CHILD_LISTEN_FD].fd;
        copies[target] = source < 0 ? -1 : fcntl(source, F_DUPFD_CLOEXEC, count);
        if (source >= 0 && copies[target] < 0)
            child_fatal("duplicate descriptor %d: %m", source);
    }
    if (copies[CHILD_LOG_FD] >= 0)
        msg_logfile_use_fd(copies[CHILD_LOG_FD]);
    for (int target = 0; target < count; target++) {
        if (copies[target] < 0)
            close(target);
        else if (dup2(copies[target], target) < 0)
            child_fatal("dup2 %d: %m", target);
    }
    if (copies[CHILD_LOG_FD] >= 0)
        msg_logfile_use_fd(CHILD_LOG_FD);
    if (close_range((unsigned) count, ~0U, 0) < 0 && errno != ENOSYS)
        child_fatal("close_range: %m");
}

static void run_child(master_serv *svc) __attribute__((noreturn));

static void run_child(master_serv *svc)
{
    reset_signals();
    place_descriptors(svc);
    execve(svc->def->path, svc->def->argv->items, master_child_env->items);
    child_fatal("master_spawn: exec %s: %m", svc->def->path);
}

/* Master side ------------------------------------------------------------ */

void master_spawn(master_serv *svc)
{
    master_proc *proc;
    pid_t   pid = fork();

    if (pid < 0) {
        msg_warn("fork: %m");
        master_service_throttle(svc);
        return;
    }
    if (pid == 0)
        run_child(svc);
    proc = xcalloc(1, sizeof(*proc));
    proc->pid = pid;
    proc->service = svc;
    proc->path = xstrdup(svc->def->path);
    proc->available = 1;
    proc->next = proc_table;
    proc_table = proc;
    svc->total++;
    svc->avail++;
    if (msg_verbose)
        msg_info("spawn %s pid %ld", proc->path, (long) pid);
    master_service_update_listen(svc);
}

static master_proc *find_proc(pid_t pid)
{
    for (master_proc *proc = proc_table; proc; proc = proc->next)
        if (proc->pid == pid)
            return proc;
    return NULL;
}

void master_proc_status(master_serv *svc, pid_t pid, int status)
{
    master_proc *proc = find_proc(pid);

    if (proc == NULL || proc->service != svc) {
        if (msg_verbose)
            msg_info("status record for unknown pid %ld ignored", (long) pid);
        return;
    }
    if (status == CHILD_STATUS_BUSY)
        proc->use_count++;
    if (status == CHILD_STATUS_IDLE && !proc->available) {
        proc->available = 1;
        svc->avail++;
    } else if (status != CHILD_STATUS_IDLE && proc->available) {
        proc->available = 0;
        svc->avail--;
    }
}

/* Stops counting a service's processes: they finish and exit on their own. */
void master_retire_children(master_serv *svc)
{
    for (master_proc *proc = proc_table; proc; proc = proc->next)
        if (proc->service == svc)
            proc->service = NULL;
    svc->total = svc->avail = 0;
}

/* Signals the processes of svc (all processes when svc is NULL). */
void master_signal_children(master_serv *svc, int sig)
{
    for (master_proc *proc = proc_table; proc; proc = proc->next) {
        if (svc && proc->service != svc)
            continue;
        if (kill(proc->pid, sig) < 0 && errno != ESRCH)
            msg_warn("kill process %ld: %m", (long) proc->pid);
        proc->signalled = 1;
        if (svc)
            proc->service = NULL;
    }
    if (svc)
        svc->total = svc->avail = 0;
}

static int abnormal_exit(int status)
{
    return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

static void log_exit(const master_proc *proc, int status)
{
    if (proc->signalled || master_stopping)
        return;
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        msg_warn("process %s pid %ld exit status %d", proc->path, (long) proc->pid,
                 WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        msg_warn("process %s pid %ld killed by signal %d", proc->path, (long) proc->pid,
                 WTERMSIG(status));
}

static void forget_proc(master_proc *gone)
{
    for (master_proc **link = &proc_table; *link; link = &(*link)->next) {
        if (*link == gone) {
            *link = gone->next;
            free(gone->path);
            free(gone);
            return;
        }
    }
}

static void account_exit(master_proc *proc, int status)
{
    master_serv *svc = proc->service;

    if (svc == NULL)
        return;
    /* Records the child wrote before it died may still sit in the pipe. */
    master_service_drain_status(svc);
    svc->total--;
    if (proc->available)
        svc->avail--;
    if (abnormal_exit(status) && proc->use_count == 0 && !proc->signalled
        && !svc->throttled && !master_stopping) {
        msg_warn("%s: bad command startup -- throttling", proc->path);
        master_service_throttle(svc);
    }
    master_service_update_listen(svc);
}

void master_reap(void)
{
    pid_t   pid;
    int     status;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        master_proc *proc = find_proc(pid);

        if (proc == NULL)
            continue;
        if (msg_verbose)
            msg_info("reap pid %ld", (long) pid);
        log_exit(proc, status);
        account_exit(proc, status);
        forget_proc(proc);
    }
    master_check_finished();
}

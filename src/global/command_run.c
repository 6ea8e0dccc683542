/*
 * command_run - run a delivery command as a user. See command_run.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "command_run.h"
#include "msg.h"
#include "sys_exits.h"

extern char **environ;

typedef struct child_io {
    int     output_fd;                  /* -1 after EOF */
    strbuf *output;
    time_t  deadline;
    int     timed_out;
} child_io;

static void keep_output(child_io *io, const char *data, size_t len)
{
    size_t  room = io->output->len < COMMAND_OUTPUT_MAX ? COMMAND_OUTPUT_MAX - io->output->len : 0;

    strbuf_append(io->output, data, len < room ? len : room);
}

/* Reads what the command printed; 0 at EOF. */
static int drain_output(child_io *io)
{
    char    buf[4096];
    ssize_t n;

    while ((n = read(io->output_fd, buf, sizeof(buf))) > 0)
        keep_output(io, buf, (size_t) n);
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        close(io->output_fd);
        io->output_fd = -1;
        return 0;
    }
    return 1;
}

static int time_left_ms(child_io *io)
{
    time_t  left = io->deadline - time(NULL);

    if (left <= 0) {
        io->timed_out = 1;
        return 0;
    }
    return (int) (left > 1000000 ? 1000000000 : left * 1000);
}

/* stream write function for the command's standard input. */
static ssize_t child_write(int fd, void *buf, size_t len, int timeout, void *context)
{
    child_io *io = context;

    (void) timeout;
    for (;;) {
        struct pollfd fds[2] = {{.fd = fd,.events = POLLOUT}, {.fd = io->output_fd,.events = POLLIN}};
        int     ms = time_left_ms(io);
        ssize_t n;

        if (ms == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (poll(fds, io->output_fd >= 0 ? 2 : 1, ms) < 0 && errno != EINTR)
            return -1;
        if (io->output_fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
            drain_output(io);
        if (fds[0].revents & (POLLOUT | POLLERR | POLLHUP)) {
            if ((n = write(fd, buf, len)) >= 0 || (errno != EAGAIN && errno != EINTR))
                return n;
        }
    }
}

static void wait_output_eof(child_io *io)
{
    while (io->output_fd >= 0) {
        struct pollfd pfd = {.fd = io->output_fd,.events = POLLIN };
        int     ms = time_left_ms(io);

        if (ms == 0)
            return;
        if (poll(&pfd, 1, ms) > 0)
            drain_output(io);
    }
}

/* The command runs as another user: killing it takes root's rights back
 * for a moment when the caller is acting as someone else (set_eugid). */
static void kill_child(pid_t pid)
{
    uid_t   acting = geteuid();
    int     switched = getuid() == 0 && acting != 0 && seteuid(0) == 0;

    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    if (switched && seteuid(acting) < 0)
        msg_fatal("seteuid(%ld): %m", (long) acting);
}

static int wait_child(pid_t pid, child_io *io)
{
    int     status;
    pid_t   got;

    while ((got = waitpid(pid, &status, WNOHANG)) == 0) {
        struct timespec pause = {0, 10 * 1000 * 1000};

        if (time_left_ms(io) == 0) {
            kill_child(pid);
            while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
                continue;
            return status;
        }
        nanosleep(&pause, NULL);
    }
    return got < 0 ? -1 : status;
}

static void become_user(uid_t uid, gid_t gid)
{
    if (getuid() == 0) {
        if (geteuid() != 0 && seteuid(0) < 0)
            _exit(EX_OSERR);
        if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
            _exit(EX_OSERR);
    }
    if (getuid() == 0 || geteuid() == 0) {
        fprintf(stderr, "refusing to run a delivery command as root\n");
        _exit(EX_CONFIG);
    }
}

static void run_child(const command_spec *spec, int in_fd, int out_fd)
{
    int     saved;

    setsid();
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
        _exit(EX_OSERR);
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    signal(SIGPIPE, SIG_DFL);
    become_user(spec->uid, spec->gid);
    if (spec->cwd == NULL || chdir(spec->cwd) < 0)
        if (chdir("/") < 0)
            _exit(EX_OSERR);
    environ = (char **) spec->env;
    execvp(spec->argv[0], spec->argv);
    saved = errno;
    fprintf(stderr, "execvp %s: %s\n", spec->argv[0], strerror(saved));
    _exit(saved == ENOENT || saved == EACCES ? EX_UNAVAILABLE : EX_OSERR);
}

static void record_status(command_result *res, int status, const child_io *io)
{
    if (io->timed_out) {
        res->status = COMMAND_TIMEOUT;
    } else if (status < 0) {
        res->status = COMMAND_FAILED;
    } else if (WIFEXITED(status)) {
        res->status = COMMAND_EXITED;
        res->exit_status = WEXITSTATUS(status);
    } else {
        res->status = COMMAND_SIGNALED;
        res->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
}

void command_run(const command_spec *spec, command_result *res)
{
    int     in_pipe[2];
    int     out_pipe[2];
    child_io io = {.deadline = time(NULL) + spec->time_limit };
    void    (*old_pipe)(int);
    stream *input;
    pid_t   pid;

    memset(res, 0, sizeof(*res));
    res->output = strbuf_new(128);
    io.output = res->output;
    if (pipe2(in_pipe, O_CLOEXEC) < 0) {
        res->status = COMMAND_FAILED;
        strbuf_printf(res->output, "pipe: %s", strerror(errno));
        return;
    }
    if (pipe2(out_pipe, O_CLOEXEC) < 0) {
        out_pipe[0] = out_pipe[1] = -1;
        pid = -1;
    } else {
        pid = fork();
    }
    if (pid < 0) {
        res->status = COMMAND_FAILED;
        strbuf_printf(res->output, "cannot start command: %s", strerror(errno));
        for (int i = 0; i < 2; i++) {
            close(in_pipe[i]);
            if (out_pipe[i] >= 0)
                close(out_pipe[i]);
        }
        return;
    }
    if (pid == 0)
        run_child(spec, in_pipe[0], out_pipe[1]);
    close(in_pipe[0]);
    close(out_pipe[1]);
    io.output_fd = out_pipe[0];
    fcntl(io.output_fd, F_SETFL, O_NONBLOCK);
    fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
    old_pipe = signal(SIGPIPE, SIG_IGN);
    input = stream_open_fd(in_pipe[1], 0);
    stream_set_io(input, NULL, child_write, &io);
    if (spec->write_input)
        spec->write_input(input, spec->context);
    stream_flush(input);
    stream_release(input);
    close(in_pipe[1]);
    wait_output_eof(&io);
    record_status(res, wait_child(pid, &io), &io);
    if (io.output_fd >= 0)
        close(io.output_fd);
    signal(SIGPIPE, old_pipe);
}

static void append_output(strbuf *reason, const command_result *res)
{
    if (res->output->len == 0)
        return;
    strbuf_append_str(reason, ". Command output: ");
    for (size_t i = 0; i < res->output->len; i++) {
        unsigned char ch = (unsigned char) res->output->data[i];

        strbuf_append_char(reason, ch < 0x20 || ch == 0x7f ? ' ' : ch);
    }
}

enum command_verdict command_outcome(const command_result *res, const char *command,
                                     char *dsn, strbuf *reason)
{
    const sys_exit_info *info;

    strbuf_reset(reason);
    switch (res->status) {
    case COMMAND_EXITED:
        if (res->exit_status == 0) {
            strcpy(dsn, "2.0.0");
            return COMMAND_SENT;
        }
        if ((info = sys_exits_find(res->exit_status)) != NULL) {
            strcpy(dsn, info->dsn);
            strbuf_set(reason, info->text);
            append_output(reason, res);
            return info->dsn[0] == '4' ? COMMAND_DEFER : COMMAND_BOUNCE;
        }
        strcpy(dsn, "5.3.0");
        strbuf_printf(reason, "Command died with status %d: \"%s\"", res->exit_status, command);
        append_output(reason, res);
        return COMMAND_BOUNCE;
    case COMMAND_SIGNALED:
        strcpy(dsn, "4.3.0");
        strbuf_printf(reason, "Command died with signal %d: \"%s\"", res->signal, command);
        append_output(reason, res);
        return COMMAND_DEFER;
    case COMMAND_TIMEOUT:
        strcpy(dsn, "5.3.0");
        strbuf_printf(reason, "Command time limit exceeded: \"%s\"", command);
        append_output(reason, res);
        return COMMAND_BOUNCE;
    case COMMAND_FAILED:
    default:
        strcpy(dsn, "4.3.0");
        strbuf_printf(reason, "%s", res->output->data);
        return COMMAND_DEFER;
    }
}

void command_result_free(command_result *res)
{
    strbuf_free(res->output);
    res->output = NULL;
}

/*
 * sendmail_postdrop - hand one message to postdrop.
 *
 * postdrop_start() runs $command_directory/postdrop -r with its standard
 * input and output on pipes (environment: only MAIL_CONFIG, when sendmail
 * was given -C or had it) and writes the envelope: the DSN and -t
 * attributes, the sender, the full name, the recipients (each after its
 * NOTIFY flags) and M. postdrop_content() writes one content record (L or
 * C). postdrop_finish() writes X and E, closes the pipe, reads postdrop's
 * answer frame (queue_id) and waits for it: 0 and the queue ID when the
 * message is in maildrop/, else postdrop's exit status (it has printed
 * why). postdrop_abort() stops postdrop, which then removes its file.
 *
 * A postdrop that cannot be started, or dies, is reported through the
 * status; write errors (SIGPIPE is ignored) show up at postdrop_finish().
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "attr.h"
#include "dsn.h"
#include "mail_params.h"
#include "maildrop.h"
#include "msg.h"
#include "record.h"
#include "sendmail.h"

static void exec_postdrop(int in_fd, int out_fd)
{
    static char *const argv[] = {"postdrop", "-r", NULL};
    char   *envp[2] = {NULL, NULL};
    strbuf *path = strbuf_new(64);
    strbuf *config = strbuf_new(64);
    const char *dir = sendmail_config_dir ? sendmail_config_dir : getenv("MAIL_CONFIG");

    if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0)
        _exit(EX_OSERR);
    if (dir) {
        strbuf_printf(config, "MAIL_CONFIG=%s", dir);
        envp[0] = config->data;
    }
    strbuf_printf(path, "%s/postdrop", var_command_directory);
    execve(path->data, argv, envp);
    msg_warn("execve %s: %m", path->data);
    _exit(EX_UNAVAILABLE);
}

static void write_envelope(postdrop_pipe *p, const sendmail_submission *sub)
{
    if (sub->dsn_envid)
        rec_printf(p->to, REC_TYPE_ATTR, "%s=%s", MAILDROP_ATTR_ENVID, sub->dsn_envid);
    if (sub->dsn_ret)
        rec_printf(p->to, REC_TYPE_ATTR, "%s=%d", MAILDROP_ATTR_RET, sub->dsn_ret);
    if (sub->encoding)
        rec_printf(p->to, REC_TYPE_ATTR, "%s=%s", MAILDROP_ATTR_ENCODING, sub->encoding);
    if (sub->extract) {
        rec_printf(p->to, REC_TYPE_ATTR, "%s=1", MAILDROP_ATTR_EXTRACT);
        if (sub->dsn_notify)
            rec_printf(p->to, REC_TYPE_ATTR, "%s=%d", MAILDROP_ATTR_NOTIFY, sub->dsn_notify);
    }
    rec_put_str(p->to, REC_TYPE_SENDER, sub->sender);
    if (sub->fullname && *sub->fullname)
        rec_put_str(p->to, REC_TYPE_FULLNAME, sub->fullname);
    for (size_t i = 0; i < sub->recipients->count; i++) {
        int     notify = sub->notify ? sub->notify[i] : sub->dsn_notify;

        if (notify)
            rec_printf(p->to, REC_TYPE_DSN_NOTIFY, "%d", notify);
        rec_put_str(p->to, REC_TYPE_RCPT, sub->recipients->items[i]);
    }
    rec_put(p->to, REC_TYPE_MESSAGE, "", 0);
}

void    postdrop_start(postdrop_pipe *p, const sendmail_submission *sub)
{
    int     to_child[2];
    int     from_child[2];

    if (pipe(to_child) < 0 || pipe(from_child) < 0)
        sendmail_fatal(EX_OSERR, "pipe: %m");
    switch (p->pid = fork()) {
    case -1:
        sendmail_fatal(EX_OSERR, "fork: %m");
    case 0:
        close(to_child[1]);
        close(from_child[0]);
        exec_postdrop(to_child[0], from_child[1]);
    }
    close(to_child[0]);
    close(from_child[1]);
    p->to = stream_open_fd(to_child[1], 0);
    p->from = from_child[0];
    p->content_bytes = 0;
    write_envelope(p, sub);
}

void    postdrop_content(postdrop_pipe *p, int type, const char *data, size_t len)
{
    rec_put(p->to, type, data, len);
    p->content_bytes += (long) len + (type == REC_TYPE_LINE);
}

static int wait_child(pid_t pid)
{
    int     status;

    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return EX_OSERR;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return EX_TEMPFAIL;
}

int     postdrop_finish(postdrop_pipe *p, strbuf *queue_id)
{
    stream *answer;
    attr_spec spec[] = {ATTR_STR("queue_id", queue_id), ATTR_END};
    int     got_id;
    int     status;

    rec_put(p->to, REC_TYPE_EXTRACTED, "", 0);
    rec_put(p->to, REC_TYPE_END, "", 0);
    (void) stream_close(p->to);
    answer = stream_open_fd(p->from, 0);
    got_id = attr_scan(answer, 0, spec) > 0;
    (void) stream_close(answer);
    status = wait_child(p->pid);
    if (status == 0 && !got_id)
        status = EX_TEMPFAIL;
    return status;
}

void    postdrop_abort(postdrop_pipe *p)
{
    int     fd = p->to->fd;

    (void) kill(p->pid, SIGTERM);
    stream_release(p->to);
    close(fd);
    (void) wait_child(p->pid);
    close(p->from);
}

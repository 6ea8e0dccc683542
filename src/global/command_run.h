/*
 * command_run - run a delivery command as an unprivileged user, with the
 * message on its standard input (local(8) commands, pipe(8) transports).
 *
 *   command_spec spec = {.argv = ..., .uid = ..., .gid = ..., .env = ...,
 *                        .cwd = home, .time_limit = var_command_time_limit,
 *                        .write_input = copy_message, .context = ...};
 *   command_result res;
 *   command_run(&spec, &res);
 *   switch (command_outcome(&res, command_text, dsn, reason)) ...
 *
 * The child gets a new session (so the whole process group can be
 * killed), standard input from a pipe the parent feeds through
 * spec.write_input(stream, context), standard output and error into one
 * pipe the parent reads (the first COMMAND_OUTPUT_MAX bytes are kept for
 * the delivery reason; the rest is read and dropped), exactly the
 * environment in spec.env, the working directory spec.cwd (falling back to
 * "/" when it cannot be entered), and only the identity uid:gid (setgroups,
 * setgid, setuid, in that order). It is executed directly, never through
 * a shell, unless the caller built a shell argv itself. uid 0 is refused:
 * no delivery command ever runs as root.
 *
 * Input and output are multiplexed with poll(), so a command that writes
 * a lot before reading cannot deadlock the agent. A command still running
 * after spec.time_limit seconds is killed (SIGKILL to its process group).
 *
 * command_outcome() maps the result to Postfix's wording and DSN status:
 * COMMAND_SENT, COMMAND_DEFER (EX_TEMPFAIL, EX_OSERR, killed by a signal,
 * could not start) or COMMAND_BOUNCE (other sysexits.h codes, any other
 * non-zero status, time limit exceeded); `reason` gets e.g. "user unknown.
 * Command output: ..." or "Command died with status 1: "cmd"". Output
 * text is sanitized (controls become spaces).
 */
#ifndef POSTERN_COMMAND_RUN_H
#define POSTERN_COMMAND_RUN_H

#include <sys/types.h>

#include "stream.h"
#include "strbuf.h"

#define COMMAND_OUTPUT_MAX  1000

enum command_status {
    COMMAND_EXITED,                     /* exit_status holds the status */
    COMMAND_SIGNALED,                   /* signal holds the signal */
    COMMAND_TIMEOUT,                    /* killed after the time limit */
    COMMAND_FAILED,                     /* could not start; why in output */
};

enum command_verdict { COMMAND_SENT, COMMAND_DEFER, COMMAND_BOUNCE };

typedef struct command_spec {
    char  *const *argv;
    char  *const *env;
    const char *cwd;
    uid_t   uid;
    gid_t   gid;
    int     time_limit;
    int   (*write_input)(stream *to_child, void *context);
    void   *context;
} command_spec;

typedef struct command_result {
    enum command_status status;
    int     exit_status;
    int     signal;
    strbuf *output;
} command_result;

void    command_run(const command_spec *spec, command_result *res);
enum command_verdict command_outcome(const command_result *res, const char *command,
                                     char *dsn, strbuf *reason);
void    command_result_free(command_result *res);

#endif

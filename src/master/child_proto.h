/*
 * child_proto - the contract between master and every process it spawns.
 *
 * A child starts with exactly these descriptors:
 *
 *     0, 1, 2             /dev/null
 *     CHILD_STATUS_FD  3  write end of the service's status pipe
 *     CHILD_LOG_FD     4  the maillog_file, open O_APPEND; present only when
 *                         the environment holds CHILD_ENV_LOG_FD
 *     CHILD_LISTEN_FD  5  the first listening endpoint; "-s N" on the command
 *                         line says how many follow (5 .. 5+N-1, default 1)
 *
 * and an environment of MAIL_CONFIG (the configuration directory), the
 * import_environment settings and, with a log file, CHILD_ENV_LOG_FD=4.
 *
 * Status records tell master whether a child can take work. Every child of
 * a service writes to the same pipe, so a record is one write(2) of exactly
 * CHILD_STATUS_SIZE bytes (atomic on a pipe) in text form:
 *
 *     PPPPPPPPPP S\n      pid, ten decimal digits zero-padded; a space;
 *                         the status letter; a newline
 *
 * where S is CHILD_STATUS_BUSY (took a connection or request), _IDLE (ready
 * for the next one) or _EXIT (about to exit voluntarily). A child watches
 * the same descriptor for an error condition: master closing the read end
 * (on reload, or when it dies) tells the child to finish and exit.
 *
 * child_status_format() fills a record; child_status_parse() checks one
 * (0 ok, -1 malformed: wrong length, non-digits, pid out of range, unknown
 * letter, missing newline).
 *
 * child_environment() builds the environment master gives its children
 * (and the postfix command gives master): each import_environment entry,
 * "NAME=value" as written or "NAME" copied from this process when set,
 * then MAIL_CONFIG=config_dir and, when with_log_fd, CHILD_ENV_LOG_FD=4.
 * MAIL_CONFIG and CHILD_ENV_LOG_FD are never imported. The caller frees
 * the result with argv_free().
 */
#ifndef POSTERN_CHILD_PROTO_H
#define POSTERN_CHILD_PROTO_H

#include <stddef.h>
#include <sys/types.h>

#include "argv.h"

#define CHILD_STATUS_FD     3
#define CHILD_LOG_FD        4
#define CHILD_LISTEN_FD     5
#define CHILD_ENV_LOG_FD    "POSTERN_LOG_FD"

#define CHILD_STATUS_BUSY   'B'
#define CHILD_STATUS_IDLE   'I'
#define CHILD_STATUS_EXIT   'X'

#define CHILD_STATUS_PID_DIGITS  10
#define CHILD_STATUS_SIZE        (CHILD_STATUS_PID_DIGITS + 3)

void child_status_format(char record[CHILD_STATUS_SIZE], pid_t pid, int status);
int  child_status_parse(const char *record, size_t len, pid_t *pid, int *status);
argv_t *child_environment(const char *import_environment, const char *config_dir,
                          int with_log_fd);

#endif

/*
 * msg - the one logging API: info, warn, error, fatal, panic.
 *
 * msg_open() names the program ("postfix/smtpd") and selects destinations:
 * syslog (facility mail), standard error (commands, foreground runs) and a
 * log file (maillog_file). The log file is written with one write(2) per line
 * on an O_APPEND descriptor, so processes can share it (master passes its
 * descriptor to every child); lines look exactly like syslog's:
 *     Nov 23 15:49:09 host postfix/smtpd[1234]: warning: text
 *
 * The host field of log file lines is the first label of the name given to
 * msg_set_log_hostname() (params_load() passes myhostname, as Postfix's log
 * file shows it), else of gethostname().
 *
 * Levels: info (no prefix), warning, error (counted; after too many the
 * process gives up), fatal (the environment failed: exit 1 or the given
 * status), panic (a bug: abort for a core dump). A hook registered with
 * msg_set_exit_hook() runs once before fatal/panic exits (remove temp files).
 * Control characters in messages are replaced with '?' so no input can forge
 * a log line.
 */
#ifndef POSTERN_MSG_H
#define POSTERN_MSG_H

#include <stdarg.h>

#define MSG_TO_STDERR  (1 << 0)
#define MSG_TO_SYSLOG  (1 << 1)

extern int msg_verbose;

void msg_open(const char *ident, int destinations);
const char *msg_ident(void);
void msg_set_destinations(int destinations);
int  msg_logfile_open(const char *path);
void msg_logfile_use_fd(int fd);
int  msg_logfile_fd(void);
void msg_set_exit_hook(void (*hook)(void));
void msg_set_log_hostname(const char *name);

void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void msg_fatal_status(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
void msg_panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void msg_vlog(int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

enum msg_level { MSG_INFO, MSG_WARN, MSG_ERROR, MSG_FATAL, MSG_PANIC };

#endif

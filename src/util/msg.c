/*
 * msg - the one logging API. See msg.h.
 *
 * Formatting goes into a fixed-size line on purpose: logging must work when
 * memory is exhausted (fatal "out of memory" is logged from here), and a log
 * line is bounded anyway. vsnprintf truncates; nothing overflows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"

#define MSG_LINE_MAX   2048
#define MSG_ERROR_MAX  13

int msg_verbose;

static char msg_ident_name[128] = "postfix";
static char msg_log_host[64];
static int msg_destinations = MSG_TO_STDERR;
static int msg_file_fd = -1;
static int msg_error_count;
static int msg_exiting;
static void (*msg_exit_hook)(void);

static const char *const level_prefix[] = {
    "", "warning: ", "error: ", "fatal: ", "panic: ",
};
static const int level_priority[] = {
    LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_CRIT,
};

void msg_open(const char *ident, int destinations)
{
    snprintf(msg_ident_name, sizeof(msg_ident_name), "%s", ident);
    msg_set_destinations(destinations);
}

const char *msg_ident(void)
{
    return msg_ident_name;
}

void msg_set_destinations(int destinations)
{
    if ((destinations & MSG_TO_SYSLOG) && !(msg_destinations & MSG_TO_SYSLOG))
        openlog(msg_ident_name, LOG_PID | LOG_NDELAY, LOG_MAIL);
    if (!(destinations & MSG_TO_SYSLOG) && (msg_destinations & MSG_TO_SYSLOG))
        closelog();
    msg_destinations = destinations;
}

int msg_logfile_open(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);

    if (fd < 0)
        return -1;
    msg_logfile_use_fd(fd);
    return 0;
}

void msg_logfile_use_fd(int fd)
{
    if (msg_file_fd >= 0 && msg_file_fd != fd)
        close(msg_file_fd);
    msg_file_fd = fd;
}

int msg_logfile_fd(void)
{
    return msg_file_fd;
}

void msg_set_log_hostname(const char *name)
{
    snprintf(msg_log_host, sizeof(msg_log_host), "%.*s", (int) strcspn(name, "."), name);
}

void msg_set_exit_hook(void (*hook)(void))
{
    msg_exit_hook = hook;
}

static void write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        data += n;
        len -= (size_t) n;
    }
}

static void write_logfile(const char *text)
{
    char    line[MSG_LINE_MAX + 256];
    char    host[256];
    char    stamp[32];
    time_t  now = time(NULL);
    struct tm tm;
    int     len;

    if (msg_log_host[0])
        snprintf(host, sizeof(host), "%s", msg_log_host);
    else if (gethostname(host, sizeof(host)) < 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = 0;
    host[strcspn(host, ".")] = 0;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
    len = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s\n",
                   stamp, host, msg_ident_name, (long) getpid(), text);
    if (len < 0)
        return;
    if ((size_t) len >= sizeof(line)) {
        len = sizeof(line) - 1;
        line[len - 1] = '\n';
    }
    write_all(msg_file_fd, line, (size_t) len);
}

static void sanitize(char *text)
{
    for (unsigned char *cp = (unsigned char *) text; *cp; cp++)
        if (*cp < 0x20 || *cp == 0x7f)
            *cp = '?';
}

void msg_vlog(int level, const char *fmt, va_list ap)
{
    char    text[MSG_LINE_MAX];
    int     saved_errno = errno;
    size_t  used;

    used = (size_t) snprintf(text, sizeof(text), "%s", level_prefix[level]);
    errno = saved_errno;                /* for %m */
    vsnprintf(text + used, sizeof(text) - used, fmt, ap);
    sanitize(text);
    if (msg_destinations & MSG_TO_STDERR) {
        char    line[MSG_LINE_MAX + 160];
        int     len = snprintf(line, sizeof(line), "%s: %s\n",
                               strrchr(msg_ident_name, '/') ?
                               strrchr(msg_ident_name, '/') + 1 : msg_ident_name,
                               text);

        if (len > 0)
            write_all(STDERR_FILENO, line, (size_t) len < sizeof(line) ?
                      (size_t) len : sizeof(line) - 1);
    }
    if (msg_file_fd >= 0)
        write_logfile(text);
    else if (msg_destinations & MSG_TO_SYSLOG)
        syslog(level_priority[level], "%s", text);
    errno = saved_errno;
}

#define DEFINE_LOGGER(func, level) \
    void func(const char *fmt, ...) \
    { \
        va_list ap; \
        va_start(ap, fmt); \
        msg_vlog(level, fmt, ap); \
        va_end(ap); \
    }

DEFINE_LOGGER(msg_info, MSG_INFO)
DEFINE_LOGGER(msg_warn, MSG_WARN)

void msg_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_ERROR, fmt, ap);
    va_end(ap);
    if (++msg_error_count >= MSG_ERROR_MAX)
        msg_fatal("too many errors - program terminated");
}

static void run_exit_hook(void)
{
    if (msg_exit_hook && !msg_exiting) {
        msg_exiting = 1;
        msg_exit_hook();
    }
}

void msg_fatal_status(int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_FATAL, fmt, ap);
    va_end(ap);
    run_exit_hook();
    exit(status);
}

void msg_fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_FATAL, fmt, ap);
    va_end(ap);
    run_exit_hook();
    exit(1);
}

void msg_panic(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_PANIC, fmt, ap);
    va_end(ap);
    run_exit_hook();
    abort();
}

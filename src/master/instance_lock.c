/*
 * instance_lock - master.pid and master.lock. See instance_lock.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "instance_lock.h"
#include "safe_open.h"

#define PID_FIELD_WIDTH  32
#define PID_TEXT_MAX     64

static strbuf *held_pid_path;

static void lock_file_path(strbuf *path, const char *dir, const char *name)
{
    strbuf_printf(path, "%s/%s", dir, name);
}

/* Opens, locks and fills one lock file; returns the descriptor or -1. */
static int lock_one(const char *path, uid_t owner, gid_t group, strbuf *why)
{
    char    text[PID_TEXT_MAX];
    strbuf *reason = strbuf_new(64);
    int     fd = safe_open(path, O_RDWR | O_CREAT, 0644, owner, group, NULL, reason);
    int     len;

    if (fd < 0) {
        strbuf_printf(why, "open lock file %s: %s", path, reason->data);
        strbuf_free(reason);
        return -1;
    }
    strbuf_free(reason);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        strbuf_printf(why, "open lock file %s: unable to set exclusive lock: %s", path,
                      errno == EWOULDBLOCK ? "is locked by another process" : strerror(errno));
        close(fd);
        return -1;
    }
    len = snprintf(text, sizeof(text), "%*ld\n", PID_FIELD_WIDTH, (long) getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t) len, 0) != len) {
        strbuf_printf(why, "write lock file %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int instance_lock_acquire(const char *queue_dir, const char *data_dir,
                          uid_t owner, gid_t group, strbuf *why)
{
    strbuf *path = strbuf_new(128);
    int     data_fd;

    lock_file_path(path, data_dir, "master.lock");
    if ((data_fd = lock_one(path->data, owner, group, why)) >= 0) {
        lock_file_path(path, queue_dir, "pid/master.pid");
        if (lock_one(path->data, (uid_t) -1, (gid_t) -1, why) >= 0) {
            held_pid_path = path;
            return 0;
        }
        close(data_fd);
    }
    strbuf_free(path);
    return -1;
}

void instance_lock_release(void)
{
    if (held_pid_path) {
        unlink(held_pid_path->data);
        strbuf_free(held_pid_path);
        held_pid_path = NULL;
    }
}

/* 1 when another process holds an exclusive lock on path; sets *pid. */
static int locked_by_master(const char *path, pid_t *pid)
{
    char    text[PID_TEXT_MAX];
    int     fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    ssize_t len;
    long    value;
    char   *end;

    if (fd < 0)
        return 0;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK) {
        close(fd);
        return 0;
    }
    len = read(fd, text, sizeof(text) - 1);
    close(fd);
    text[len > 0 ? len : 0] = 0;
    value = strtol(text, &end, 10);
    *pid = (value > 0 && (*end == '\n' || *end == 0)) ? (pid_t) value : 0;
    return 1;
}

int instance_running(const char *queue_dir, const char *data_dir, pid_t *pid)
{
    strbuf *path = strbuf_new(128);
    int     running;

    *pid = 0;
    lock_file_path(path, queue_dir, "pid/master.pid");
    running = locked_by_master(path->data, pid);
    if (!running) {
        lock_file_path(path, data_dir, "master.lock");
        running = locked_by_master(path->data, pid);
    }
    strbuf_free(path);
    return running;
}

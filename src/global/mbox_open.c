/*
 * mbox_open - open and lock a mailbox. See mbox_open.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "mail_params.h"
#include "mbox_open.h"
#include "mem.h"
#include "safe_open.h"

int mbox_lock_styles(const char *value)
{
    argv_t *words = argv_split(value, ARGV_LIST_DELIMITERS);
    int     styles = 0;

    for (size_t i = 0; i < words->count; i++) {
        if (strcmp(words->items[i], "fcntl") == 0)
            styles |= MBOX_LOCK_FCNTL;
        else if (strcmp(words->items[i], "flock") == 0)
            styles |= MBOX_LOCK_FLOCK;
        else if (strcmp(words->items[i], "dotlock") == 0)
            styles |= MBOX_LOCK_DOTLOCK;
        else
            styles = -1;
        if (styles < 0)
            break;
    }
    argv_free(words);
    return styles;
}

static void remove_if_stale(const char *lock_path)
{
    struct stat st;

    if (lstat(lock_path, &st) == 0 && S_ISREG(st.st_mode)
        && time(NULL) - st.st_mtime > var_stale_lock_time)
        unlink(lock_path);
}

int dot_lock_acquire(const char *lock_path, strbuf *why)
{
    for (int attempt = 0; attempt < var_deliver_lock_attempts; attempt++) {
        int     fd = open(lock_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);

        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (errno != EEXIST) {
            strbuf_printf(why, "unable to create lock file %s: %s", lock_path, strerror(errno));
            return -1;
        }
        remove_if_stale(lock_path);
        if (attempt + 1 < var_deliver_lock_attempts)
            sleep((unsigned) var_deliver_lock_delay);
    }
    strbuf_printf(why, "unable to create lock file %s: %s", lock_path, strerror(EEXIST));
    return -1;
}

void dot_lock_release(const char *lock_path)
{
    unlink(lock_path);
}

static int lock_fd(int fd, int style)
{
    struct flock lock = {.l_type = F_WRLCK,.l_whence = SEEK_SET };

    for (int attempt = 0; attempt < var_deliver_lock_attempts; attempt++) {
        int     rc = style == MBOX_LOCK_FCNTL ? fcntl(fd, F_SETLK, &lock)
            : flock(fd, LOCK_EX | LOCK_NB);

        if (rc == 0)
            return 0;
        if (errno != EAGAIN && errno != EACCES && errno != EWOULDBLOCK)
            return -1;
        if (attempt + 1 < var_deliver_lock_attempts)
            sleep((unsigned) var_deliver_lock_delay);
    }
    errno = EAGAIN;
    return -1;
}

static void mbox_free(mbox *mb)
{
    if (mb->lock_path) {
        dot_lock_release(mb->lock_path);
        free(mb->lock_path);
    }
    free(mb->path);
    free(mb);
}

mbox   *mbox_open(const char *path, uid_t owner, gid_t group, int locks, strbuf *why)
{
    mbox   *mb = xcalloc(1, sizeof(*mb));
    struct stat st;
    int     fd;

    mb->path = xstrdup(path);
    if (locks & MBOX_LOCK_DOTLOCK) {
        strbuf *lock_path = strbuf_new(64);

        strbuf_printf(lock_path, "%s.lock", path);
        if (dot_lock_acquire(lock_path->data, why) < 0) {
            strbuf_free(lock_path);
            mbox_free(mb);
            return NULL;
        }
        mb->lock_path = strbuf_steal(lock_path);
    }
    if ((fd = safe_open(path, O_WRONLY | O_APPEND | O_CREAT, 0600, owner, group, &st, why)) < 0) {
        mbox_free(mb);
        return NULL;
    }
    for (int style = MBOX_LOCK_FCNTL; style <= MBOX_LOCK_FLOCK; style <<= 1) {
        if ((locks & style) && lock_fd(fd, style) < 0) {
            strbuf_printf(why, "unable to lock for exclusive access: %s", strerror(errno));
            close(fd);
            mbox_free(mb);
            return NULL;
        }
    }
    mb->orig_size = st.st_size;
    mb->stream = stream_open_fd(fd, 0);
    return mb;
}

int mbox_truncate(mbox *mb)
{
    stream_drop_input(mb->stream);
    mb->stream->wlen = 0;
    stream_clear_status(mb->stream);
    return ftruncate(mb->stream->fd, mb->orig_size);
}

int mbox_close(mbox *mb)
{
    int     rc = 0;

    if (stream_flush(mb->stream) < 0 || fsync(mb->stream->fd) < 0)
        rc = -1;
    stream_close(mb->stream);
    mbox_free(mb);
    return rc;
}

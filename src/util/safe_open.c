/*
 * safe_open - open or create a file without being fooled. See safe_open.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "safe_open.h"

static int reject(int fd, strbuf *why, const char *path, const char *reason)
{
    if (fd >= 0)
        close(fd);
    strbuf_printf(why, "%s: %s", path, reason);
    errno = EPERM;
    return -1;
}

static int open_existing(const char *path, int flags, uid_t owner,
                         struct stat *st, strbuf *why)
{
    struct stat before;
    int     fd;

    if (lstat(path, &before) < 0)
        return -1;
    if (S_ISLNK(before.st_mode))
        return reject(-1, why, path, "file is a symbolic link");
    if (!S_ISREG(before.st_mode))
        return reject(-1, why, path, "file is not a regular file");
    if ((fd = open(path, (flags & ~(O_CREAT | O_EXCL)) | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        strbuf_printf(why, "cannot open file %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, st) < 0)
        return reject(fd, why, path, "cannot fstat file");
    if (st->st_dev != before.st_dev || st->st_ino != before.st_ino)
        return reject(fd, why, path, "file was replaced while being opened");
    if (!S_ISREG(st->st_mode))
        return reject(fd, why, path, "file is not a regular file");
    if (st->st_nlink != 1)
        return reject(fd, why, path, "file has too many hard links");
    if (owner != (uid_t) -1 && st->st_uid != owner)
        return reject(fd, why, path, "file has the wrong owner");
    return fd;
}

static int create_new(const char *path, int flags, mode_t mode, uid_t owner,
                      gid_t group, struct stat *st, strbuf *why)
{
    int     fd = open(path, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

    if (fd < 0)
        return -1;
    if ((owner != (uid_t) -1 || group != (gid_t) -1) && fchown(fd, owner, group) < 0) {
        strbuf_printf(why, "cannot set ownership of %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    if (fstat(fd, st) < 0)
        return reject(fd, why, path, "cannot fstat file");
    return fd;
}

int safe_open(const char *path, int flags, mode_t mode, uid_t owner, gid_t group,
              struct stat *st, strbuf *why)
{
    struct stat local;
    int     fd;

    if (st == NULL)
        st = &local;
    strbuf_reset(why);
    for (int attempt = 0; attempt < 3; attempt++) {
        if ((fd = open_existing(path, flags, owner, st, why)) >= 0 || why->len)
            return fd;
        if (errno != ENOENT) {
            strbuf_printf(why, "cannot open file %s: %s", path, strerror(errno));
            return -1;
        }
        if (!(flags & O_CREAT)) {
            strbuf_printf(why, "cannot open file %s: %s", path, strerror(errno));
            return -1;
        }
        if ((fd = create_new(path, flags, mode, owner, group, st, why)) >= 0 || why->len)
            return fd;
        if (errno != EEXIST) {
            strbuf_printf(why, "cannot create file %s: %s", path, strerror(errno));
            return -1;
        }
    }
    strbuf_printf(why, "cannot open file %s: it keeps changing", path);
    return -1;
}

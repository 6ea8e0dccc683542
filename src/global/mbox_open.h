/*
 * mbox_open - open a UNIX mailbox file for appending, safely and locked.
 *
 *   mbox *mb = mbox_open(path, uid, gid, locks, why);
 *   ... write through mb->stream (mail_copy) ...
 *   if (failed) mbox_truncate(mb);      back to mb->orig_size
 *   mbox_close(mb);                     fsync, unlock, close
 *
 * The file is opened with safe_open() (O_APPEND): no symbolic link, one
 * hard link, the same file before and after the open and, when `owner` is
 * not (uid_t) -1, owned by `owner` (strict_mailbox_ownership). A missing
 * file is created mode 0600 owned by owner:group. Then the locks named in
 * `locks` (mbox_lock_styles("fcntl, dotlock")) are taken: a "PATH.lock"
 * file created exclusively (a lock older than stale_lock_time is removed),
 * then fcntl() and/or flock() on the file, each tried deliver_lock_attempts
 * times, deliver_lock_delay apart. The caller chooses the effective user
 * before calling (see set_eugid.h): the dot lock needs write access to the
 * directory.
 *
 * Returns NULL with a reason in `why` (a busy lock, an I/O error, a
 * symbolic link, a hard link, a wrong owner). mbox_close() returns 0, or
 * -1 when the flush or fsync failed.
 */
#ifndef POSTERN_MBOX_OPEN_H
#define POSTERN_MBOX_OPEN_H

#include <sys/types.h>

#include "stream.h"
#include "strbuf.h"

#define MBOX_LOCK_FCNTL    (1 << 0)
#define MBOX_LOCK_FLOCK    (1 << 1)
#define MBOX_LOCK_DOTLOCK  (1 << 2)

typedef struct mbox {
    stream *stream;
    char   *path;
    char   *lock_path;                  /* NULL: no dot lock held */
    off_t   orig_size;
} mbox;

int     mbox_lock_styles(const char *value);
mbox   *mbox_open(const char *path, uid_t owner, gid_t group, int locks, strbuf *why);
int     mbox_truncate(mbox *mb);
int     mbox_close(mbox *mb);
int     dot_lock_acquire(const char *path, strbuf *why);
void    dot_lock_release(const char *path);

#endif

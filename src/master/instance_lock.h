/*
 * instance_lock - the files that say "a master runs on this queue".
 *
 * While master runs it holds an exclusive flock(2) lock on two files that
 * each contain its process ID (right-aligned in 32 columns, then a newline,
 * as Postfix writes them): queue_directory/pid/master.pid and
 * data_directory/master.lock. Two masters can therefore never share a queue
 * or a data directory.
 *
 * instance_lock_acquire() creates (or reuses) both files through safe_open,
 * so a symbolic link or a hard-linked file planted there is refused;
 * master.pid belongs to the caller, master.lock to `owner`:`group` (the
 * data directory belongs to mail_owner). It returns 0, or -1 with a reason
 * in `why` (another master holds a lock: "... is locked by another process").
 * The descriptors stay open, close-on-exec, until the process exits.
 * instance_lock_release() removes master.pid (on an orderly exit).
 *
 * instance_running() is for everyone else: 1 when a master holds either
 * lock, with its pid in *pid (0 if the file does not hold a number), else 0.
 * It takes and drops a shared lock, so it never disturbs a running master.
 */
#ifndef POSTERN_INSTANCE_LOCK_H
#define POSTERN_INSTANCE_LOCK_H

#include <sys/types.h>

#include "strbuf.h"

int     instance_lock_acquire(const char *queue_dir, const char *data_dir,
                              uid_t owner, gid_t group, strbuf *why);
void    instance_lock_release(void);
int     instance_running(const char *queue_dir, const char *data_dir, pid_t *pid);

#endif

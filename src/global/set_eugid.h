/*
 * set_eugid - act as another user for a while, in a process that runs as
 * root (local(8), pipe(8)).
 *
 * set_eugid(uid, gid) switches the effective user and group (and the
 * supplementary groups to just gid) so that files are created, opened and
 * written with that user's rights; set_eugid(0, 0) switches back. The real
 * user stays root, so the switch can be undone: use it for file access,
 * never to run code of the user's (command_run drops all rights for that).
 * A failure is fatal: continuing with the wrong identity is never safe.
 * When the process does not run as root (a development instance), both are
 * no-ops.
 */
#ifndef POSTERN_SET_EUGID_H
#define POSTERN_SET_EUGID_H

#include <sys/types.h>

void    set_eugid(uid_t uid, gid_t gid);

#endif

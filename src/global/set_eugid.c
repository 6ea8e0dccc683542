/*
 * set_eugid - switch the effective user and group. See set_eugid.h.
 *
 * The identity set last is remembered, so asking for it again costs no
 * system call (local(8) switches several times per delivery). Nothing
 * else in these processes changes the effective ids for longer than a
 * call (command_run's kill_child() puts them back).
 */
#include <grp.h>
#include <unistd.h>

#include "msg.h"
#include "set_eugid.h"

static int real_root = -1;              /* -1 not known yet */
static int identity_known;
static uid_t current_uid;
static gid_t current_gid;

void set_eugid(uid_t uid, gid_t gid)
{
    if (real_root < 0)
        real_root = getuid() == 0;
    if (!real_root || (identity_known && uid == current_uid && gid == current_gid))
        return;
    if ((identity_known ? current_uid != 0 : geteuid() != 0) && seteuid(0) < 0)
        msg_fatal("seteuid(0): %m");
    identity_known = 0;
    if (setgroups(1, &gid) < 0)
        msg_fatal("setgroups(%ld): %m", (long) gid);
    if (setegid(gid) < 0)
        msg_fatal("setegid(%ld): %m", (long) gid);
    if (uid != 0 && seteuid(uid) < 0)
        msg_fatal("seteuid(%ld): %m", (long) uid);
    current_uid = uid;
    current_gid = gid;
    identity_known = 1;
}

/*
 * server_privilege - chroot and become mail_owner. See server_privilege.h.
 */
#include <grp.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include "mail_params.h"
#include "mail_proto.h"
#include "msg.h"
#include "server_privilege.h"

static void lookup_mail_owner(uid_t *uid, gid_t *gid)
{
    struct passwd *pw = getpwnam(var_mail_owner);

    if (pw == NULL)
        msg_fatal("file %s/main.cf: parameter mail_owner: unknown user name value: %s",
                  var_config_directory, var_mail_owner);
    if (pw->pw_uid == 0)
        msg_fatal("file %s/main.cf: parameter mail_owner: user %s has privileged user ID",
                  var_config_directory, var_mail_owner);
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
}

static void become(uid_t uid, gid_t gid)
{
    if (setgroups(1, &gid) < 0)
        msg_fatal("setgroups(%ld): %m", (long) gid);
    if (setgid(gid) < 0)
        msg_fatal("setgid(%ld): %m", (long) gid);
    if (setuid(uid) < 0)
        msg_fatal("setuid(%ld): %m", (long) uid);
    if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid
        || setuid(0) == 0)
        msg_fatal("privilege drop to %s failed", var_mail_owner);
}

void server_drop_privileges(const server_privilege *privilege)
{
    uid_t   uid = 0;
    gid_t   gid = 0;

    if (chdir(var_queue_directory) < 0)
        msg_fatal("chdir %s: %m", var_queue_directory);
    if (geteuid() != 0)
        return;
    if (privilege->unprivileged)
        lookup_mail_owner(&uid, &gid);
    tzset();                            /* keep local time for log lines */
    if (privilege->chroot) {
        if (chroot(var_queue_directory) < 0)
            msg_fatal("chroot %s: %m", var_queue_directory);
        if (chdir("/") < 0)
            msg_fatal("chdir /: %m");
        mail_proto_set_root("/");
    }
    if (privilege->unprivileged)
        become(uid, gid);
}

/*
 * server_privilege - how a daemon gives up root (server_common.c calls it).
 *
 * server_drop_privileges() always changes to queue_directory. Run as root,
 * it then, when asked: chroots into queue_directory (and tells mail_proto
 * that the queue is now "/"), and becomes mail_owner, in this order:
 * chroot, chdir, setgroups, setgid, setuid. It verifies the result
 * (real and effective IDs, and that setuid(0) now fails). mail_owner is
 * looked up before the chroot; an unknown or root mail_owner is fatal, as
 * is any failing step. Run as another user it changes nothing else.
 */
#ifndef POSTERN_SERVER_PRIVILEGE_H
#define POSTERN_SERVER_PRIVILEGE_H

typedef struct server_privilege {
    int     chroot;                     /* -c */
    int     unprivileged;               /* -u */
} server_privilege;

void    server_drop_privileges(const server_privilege *privilege);

#endif

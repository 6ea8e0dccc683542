/*
 * postfix.h - the postfix command's modules.
 *
 *   postfix.c          options, configuration, the commands (start, stop, ...)
 *   postfix_dirs.c     the queue and data directories: create what is
 *                      missing, check owners and modes, set-permissions
 *   postfix_check.c    "postfix check": configuration, files, directories
 *
 * postfix_create_missing() creates missing directories with Postfix's
 * owners and modes (chown only as root); a failure is fatal.
 * postfix_check_directories() logs a warning for each owner or mode that
 * is off (owners only when run as root). postfix_set_permissions() sets
 * owners (as root) and modes of what exists. postfix_check() runs every
 * check of "postfix check" and "postfix start" that is not postsuper's
 * (postfix.c runs postsuper after it): fatal problems exit 1.
 * postfix_check_master_cf() is the master.cf part alone ("postfix reload").
 */
#ifndef POSTERN_POSTFIX_H
#define POSTERN_POSTFIX_H

#include <sys/types.h>

typedef struct postfix_ids {
    int     as_root;                    /* ownership is checked and set */
    uid_t   mail_owner;
    gid_t   setgid_group;
} postfix_ids;

void    postfix_lookup_ids(postfix_ids *ids);
void    postfix_create_missing(const postfix_ids *ids);
void    postfix_check_directories(const postfix_ids *ids);
void    postfix_set_permissions(const postfix_ids *ids);
void    postfix_check(void);
void    postfix_check_master_cf(void);

#endif

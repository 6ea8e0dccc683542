/*
 * sys_exits - what a command's exit status means for a delivery
 * (sysexits.h, as local(8) and pipe(8) interpret it).
 *
 * sys_exits_find(status) returns the table entry for an EX_* status
 * (64..78), or NULL for any other value. Each entry has the DSN status
 * (4.x.x for the soft errors EX_OSERR and EX_TEMPFAIL, 5.x.x for the rest)
 * and a short text ("user unknown"). sys_exits_soft() says whether a
 * status means "try again later".
 */
#ifndef POSTERN_SYS_EXITS_H
#define POSTERN_SYS_EXITS_H

typedef struct sys_exit_info {
    int     status;
    const char *dsn;
    const char *text;
} sys_exit_info;

const sys_exit_info *sys_exits_find(int status);
int     sys_exits_soft(int status);

#endif

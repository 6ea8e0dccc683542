/*
 * sys_exits - sysexits.h statuses and their delivery meaning. See sys_exits.h.
 */
#include <stddef.h>
#include <sysexits.h>

#include "sys_exits.h"

static const sys_exit_info sys_exit_table[] = {
    {EX_USAGE, "5.3.0", "command line usage error"},
    {EX_DATAERR, "5.6.0", "data format error"},
    {EX_NOINPUT, "5.3.0", "cannot open input"},
    {EX_NOUSER, "5.1.1", "user unknown"},
    {EX_NOHOST, "5.1.2", "host name unknown"},
    {EX_UNAVAILABLE, "5.3.0", "service unavailable"},
    {EX_SOFTWARE, "5.3.0", "internal software error"},
    {EX_OSERR, "4.3.0", "system resource problem"},
    {EX_OSFILE, "5.3.0", "critical OS file missing"},
    {EX_CANTCREAT, "5.2.0", "can't create user output file"},
    {EX_IOERR, "5.3.0", "input/output error"},
    {EX_TEMPFAIL, "4.3.0", "temporary failure"},
    {EX_PROTOCOL, "5.5.0", "remote error in protocol"},
    {EX_NOPERM, "5.7.0", "permission denied"},
    {EX_CONFIG, "5.3.5", "local configuration error"},
};

const sys_exit_info *sys_exits_find(int status)
{
    for (size_t i = 0; i < sizeof(sys_exit_table) / sizeof(sys_exit_table[0]); i++)
        if (sys_exit_table[i].status == status)
            return &sys_exit_table[i];
    return NULL;
}

int sys_exits_soft(int status)
{
    const sys_exit_info *info = sys_exits_find(status);

    return info != NULL && info->dsn[0] == '4';
}

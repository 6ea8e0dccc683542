/*
 * maillog - validate and open maillog_file. See maillog.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "argv.h"
#include "mail_params.h"
#include "maillog.h"
#include "msg.h"

static int has_dot_dot(const char *path)
{
    for (const char *cp = strstr(path, ".."); cp; cp = strstr(cp + 1, ".."))
        if (cp[-1] == '/' && (cp[2] == '/' || cp[2] == 0))
            return 1;
    return 0;
}

int maillog_path_allowed(const char *path, const char *prefixes, strbuf *why)
{
    argv_t *list;
    int     allowed = 0;

    if (path[0] != '/' || has_dot_dot(path)) {
        strbuf_printf(why, "maillog_file \"%s\" must be an absolute path without \"..\"", path);
        return -1;
    }
    list = argv_split(prefixes, ARGV_LIST_DELIMITERS);
    for (size_t i = 0; i < list->count && !allowed; i++)
        allowed = strncmp(path, list->items[i], strlen(list->items[i])) == 0;
    argv_free(list);
    if (!allowed) {
        strbuf_printf(why, "maillog_file \"%s\" does not match any prefix in "
                      "maillog_file_prefixes (%s)", path, prefixes);
        return -1;
    }
    return 0;
}

int maillog_open(strbuf *why)
{
    int     fd;

    if (*var_maillog_file == 0)
        return 0;
    if (maillog_path_allowed(var_maillog_file, var_maillog_file_prefixes, why) < 0)
        return -1;
    fd = open(var_maillog_file, O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY | O_CLOEXEC, 0640);
    if (fd < 0) {
        strbuf_printf(why, "open maillog_file %s: %s", var_maillog_file, strerror(errno));
        return -1;
    }
    msg_logfile_use_fd(fd);
    return 1;
}

void maillog_command_logging(const char *program)
{
    strbuf *ident = strbuf_new(32);
    strbuf *why = strbuf_new(64);

    strbuf_printf(ident, "%s/%s", var_syslog_name, program);
    msg_open(ident->data, MSG_TO_STDERR);
    if (maillog_open(why) <= 0)
        msg_set_destinations(MSG_TO_STDERR | MSG_TO_SYSLOG);
    strbuf_free(ident);
    strbuf_free(why);
}

/*
 * postconf_master - print master.cf entries (postconf -M, -Mf).
 *
 * One line per service in Postfix's column layout; with -f the -o options go
 * on their own indented lines. Arguments name services to show, as
 * "service" (every type) or "service/type". An argument that matches
 * nothing is ignored, as Postfix does.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "master_cf.h"
#include "mem.h"
#include "msg.h"
#include "postconf.h"
#include "strbuf.h"

static int selected(const master_service *svc, char **filters)
{
    if (*filters == NULL)
        return 1;
    for (; *filters; filters++) {
        const char *slash = strchr(*filters, '/');
        size_t  len = slash ? (size_t) (slash - *filters) : strlen(*filters);

        if (strlen(svc->name) == len && strncmp(svc->name, *filters, len) == 0
            && (slash == NULL || strcmp(slash + 1, svc->type) == 0))
            return 1;
    }
    return 0;
}

static void append_argument(strbuf *line, const char *arg)
{
    if (strpbrk(arg, " \t") || *arg == 0)
        strbuf_append_printf(line, " { %s }", arg);
    else
        strbuf_append_printf(line, " %s", arg);
}

static void print_service(const master_service *svc, int flags)
{
    strbuf *line = strbuf_new(128);
    const argv_t *cmd = svc->command;

    strbuf_printf(line, "%-10s %-5s %-7s %-7s %-7s %-7s %-7s %s", svc->raw[0], svc->raw[1],
                  svc->raw[2], svc->raw[3], svc->raw[4], svc->raw[5], svc->raw[6],
                  cmd->items[0]);
    for (size_t i = 1; i < cmd->count; i++) {
        int     option = strcmp(cmd->items[i], "-o") == 0 && i + 1 < cmd->count;

        if ((flags & PC_FOLD) && option) {
            strbuf_append_str(line, "\n    -o");
            append_argument(line, cmd->items[++i]);
        } else if (option) {
            strbuf_append_str(line, " -o");
            append_argument(line, cmd->items[++i]);
        } else {
            append_argument(line, cmd->items[i]);
        }
    }
    puts(line->data);
    strbuf_free(line);
}

int postconf_print_master(int flags, char **services)
{
    strbuf *path = strbuf_new(128);
    strbuf *error = strbuf_new(128);
    master_cf *mcf;

    strbuf_printf(path, "%s/master.cf", config_dir());
    if ((mcf = master_cf_read(path->data, error)) == NULL)
        msg_fatal("%s", error->data);
    for (size_t i = 0; i < mcf->count; i++)
        if (selected(&mcf->services[i], services))
            print_service(&mcf->services[i], flags);
    master_cf_free(mcf);
    strbuf_free(path);
    strbuf_free(error);
    return 0;
}

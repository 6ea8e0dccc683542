/*
 * master_reload - SIGHUP: re-read main.cf and master.cf and apply them.
 *
 * The new configuration is first loaded in a throw-away child process,
 * where any error is fatal as usual (and logged, naming file and line);
 * only when that child succeeds does master load it itself, so a broken
 * configuration never takes a running master down. Then: reopen the
 * maillog_file (so "postfix reload" also serves log rotation), replace the
 * services (master_apply_services: kept sockets stay open, processes of
 * kept services finish and exit, processes of removed services are
 * terminated, added services start), refresh the chroot jail and log
 * "reload -- version V, configuration DIR".
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "mail_params.h"
#include "maillog.h"
#include "master.h"
#include "master_cf.h"
#include "msg.h"

static service_table *load_services(strbuf *error)
{
    strbuf *path = strbuf_new(128);
    service_table *table = NULL;
    master_cf *mcf;
    int     families;

    config_init(config_dir());
    params_load();
    strbuf_printf(path, "%s/master.cf", config_dir());
    if ((families = master_inet_families(error)) >= 0
        && (mcf = master_cf_read(path->data, error)) != NULL) {
        table = service_table_build(mcf, families, error);
        master_cf_free(mcf);
    }
    strbuf_free(path);
    return table;
}

/* 1 when a child process can load the whole configuration. */
static int configuration_loads(void)
{
    pid_t   pid = fork();
    int     status;

    if (pid < 0) {
        msg_warn("reload: fork: %m");
        return 0;
    }
    if (pid == 0) {
        strbuf *error = strbuf_new(128);

        msg_set_exit_hook(NULL);
        if (load_services(error) == NULL)
            msg_fatal("%s", error->data);
        _exit(0);
    }
    while (waitpid(pid, &status, 0) < 0)
        /* EINTR */ ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void reopen_maillog(void)
{
    strbuf *why = strbuf_new(64);
    int     logfile = maillog_open(why);

    if (logfile < 0)
        msg_warn("%s; logging continues where it was", why->data);
    else if (logfile == 0) {
        msg_logfile_use_fd(-1);
        msg_set_destinations(MSG_TO_SYSLOG);
    }
    strbuf_free(why);
}

void master_reload(void)
{
    strbuf *error = strbuf_new(128);
    service_table *table;

    if (!configuration_loads()) {
        msg_warn("reload: the configuration has errors; "
                 "the running configuration stays in effect");
    } else if ((table = load_services(error)) == NULL) {
        msg_warn("reload: %s; the running configuration stays in effect", error->data);
    } else {
        reopen_maillog();
        master_build_child_env();
        for (size_t i = 0; i < table->warnings->count; i++)
            msg_warn("%s", table->warnings->items[i]);
        master_apply_services(table, error);
        service_table_free(table);
        if (master_is_root)
            master_prepare_jail();
        msg_info("reload -- version %s, configuration %s", var_mail_version, config_dir());
    }
    strbuf_free(error);
}

/*
 * postfix_check - "postfix check" (also the first step of "postfix start").
 *
 * Fatal (exit 1, naming the file and line where there is one): main.cf
 * (already loaded by the caller: syntax and parameter types), master.cf
 * (syntax, and everything master would refuse: unknown port names, command
 * names with '/', ...), mail_owner and setgid_group, maillog_file outside
 * maillog_file_prefixes, a missing configuration directory, master.cf or
 * master program, a queue directory that cannot be created.
 *
 * Warnings: directory owners and modes (postfix_dirs.c), and chroot jail
 * copies (queue_directory/etc/...) that differ from the /etc originals.
 * Missing directories are created with the right owners and modes.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "mail_params.h"
#include "maillog.h"
#include "master_cf.h"
#include "msg.h"
#include "postfix.h"
#include "services.h"

#define JAIL_COMPARE_MAX  (4 * 1024 * 1024)

static const char *const jail_files[] = {
    "services", "resolv.conf", "hosts", "localtime", "nsswitch.conf", "host.conf",
};

void postfix_check_master_cf(void)
{
    strbuf *path = strbuf_new(128);
    strbuf *error = strbuf_new(128);
    service_table *table = NULL;
    master_cf *mcf;
    int     families;

    strbuf_printf(path, "%s/master.cf", config_dir());
    if (access(path->data, F_OK) < 0)
        msg_fatal("no %s file found", path->data);
    if (service_parse_protocols(var_inet_protocols, &families, error) == 0
        && (mcf = master_cf_read(path->data, error)) != NULL) {
        table = service_table_build(mcf, families, error);
        master_cf_free(mcf);
    }
    if (table == NULL)
        msg_fatal("%s", error->data);
    for (size_t i = 0; i < table->warnings->count; i++)
        msg_warn("%s", table->warnings->items[i]);
    service_table_free(table);
    strbuf_free(path);
    strbuf_free(error);
}

static void check_programs(void)
{
    strbuf *path = strbuf_new(128);
    struct stat st;

    strbuf_printf(path, "%s/master", var_daemon_directory);
    if (stat(path->data, &st) < 0 || !S_ISREG(st.st_mode))
        msg_fatal("no Postfix master program %s!", path->data);
    strbuf_free(path);
}

static void check_maillog(void)
{
    strbuf *why = strbuf_new(128);

    if (*var_maillog_file && maillog_path_allowed(var_maillog_file,
                                                  var_maillog_file_prefixes, why) < 0)
        msg_fatal("%s", why->data);
    strbuf_free(why);
}

/* Reads a whole (bounded) file; NULL if it cannot. */
static strbuf *read_file(const char *path)
{
    strbuf *data = strbuf_new(4096);
    char    buf[8192];
    ssize_t n;
    int     fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        strbuf_free(data);
        return NULL;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0 && data->len <= JAIL_COMPARE_MAX)
        strbuf_append(data, buf, (size_t) n);
    close(fd);
    if (n < 0) {
        strbuf_free(data);
        return NULL;
    }
    return data;
}

static void check_jail_copy(const char *name)
{
    strbuf *copy_path = strbuf_new(128);
    strbuf *system_path = strbuf_new(64);
    strbuf *copy;
    strbuf *original;

    strbuf_printf(copy_path, "%s/etc/%s", var_queue_directory, name);
    strbuf_printf(system_path, "/etc/%s", name);
    if ((copy = read_file(copy_path->data)) != NULL
        && (original = read_file(system_path->data)) != NULL) {
        if (copy->len != original->len || memcmp(copy->data, original->data, copy->len))
            msg_warn("%s and %s differ", copy_path->data, system_path->data);
        strbuf_free(original);
    }
    strbuf_free(copy);
    strbuf_free(copy_path);
    strbuf_free(system_path);
}

void postfix_check(void)
{
    postfix_ids ids;
    struct stat st;

    if (stat(config_dir(), &st) < 0 || !S_ISDIR(st.st_mode))
        msg_fatal("no Postfix configuration directory %s!", config_dir());
    postfix_check_master_cf();
    postfix_lookup_ids(&ids);
    check_maillog();
    check_programs();
    postfix_create_missing(&ids);
    postfix_check_directories(&ids);
    for (size_t i = 0; i < sizeof(jail_files) / sizeof(jail_files[0]); i++)
        check_jail_copy(jail_files[i]);
}

/*
 * config_secure - configuration for set-gid commands. See config_secure.h.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "argv.h"
#include "config.h"
#include "config_secure.h"
#include "mail_params.h"
#include "msg.h"
#include "strbuf.h"

/* Whether the default main.cf lists `dir` in alternate_config_directories. */
static int alternate_allowed(const char *dir)
{
    strbuf *value = strbuf_new(128);
    argv_t *list;
    int     allowed;

    config_init(DEF_CONFIG_DIRECTORY);
    if (config_eval("alternate_config_directories", value) < 0)
        msg_fatal("%s: alternate_config_directories: %s", config_main_cf_path(),
                  config_last_error());
    list = argv_split(value->data, ARGV_LIST_DELIMITERS);
    allowed = argv_contains(list, dir);
    argv_free(list);
    strbuf_free(value);
    return allowed;
}

void config_secure_init(const char *requested)
{
    if (requested == NULL || *requested == 0)
        requested = getenv("MAIL_CONFIG");
    if (requested == NULL || *requested == 0 || strcmp(requested, DEF_CONFIG_DIRECTORY) == 0) {
        config_init(DEF_CONFIG_DIRECTORY);
        return;
    }
    if (getuid() != 0 && !alternate_allowed(requested))
        msg_fatal("unauthorized configuration directory name: %s", requested);
    config_init(requested);
}

void config_secure_environment(void)
{
    argv_t *keep = argv_new(8);
    argv_t *names = argv_split(var_import_environment, ARGV_LIST_DELIMITERS);

    for (size_t i = 0; i < names->count; i++) {
        const char *entry = names->items[i];
        const char *value;

        if (strchr(entry, '=') != NULL)
            argv_add(keep, entry);
        else if (strcmp(entry, "MAIL_CONFIG") != 0 && (value = getenv(entry)) != NULL) {
            strbuf *pair = strbuf_new(64);

            strbuf_printf(pair, "%s=%s", entry, value);
            argv_add_owned(keep, strbuf_steal(pair));
        }
    }
    if (clearenv() != 0)
        msg_fatal("cannot clear the environment");
    for (size_t i = 0; i < keep->count; i++) {
        char   *eq = strchr(keep->items[i], '=');

        *eq = 0;
        if (setenv(keep->items[i], eq + 1, 1) < 0)
            msg_fatal("setenv %s: %m", keep->items[i]);
    }
    if (setenv("MAIL_CONFIG", config_dir(), 1) < 0)
        msg_fatal("setenv MAIL_CONFIG: %m");
    argv_free(keep);
    argv_free(names);
}

void config_secure_descriptors(void)
{
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) < 0) {
            int     null = open("/dev/null", O_RDWR);

            if (null < 0)
                msg_fatal("open /dev/null: %m");
            if (null != fd)
                msg_fatal("cannot open descriptor %d", fd);
        }
    }
}

/*
 * child_proto - status records between master and its children. See child_proto.h.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child_proto.h"
#include "msg.h"
#include "strbuf.h"

void child_status_format(char record[CHILD_STATUS_SIZE], pid_t pid, int status)
{
    char    text[CHILD_STATUS_SIZE + 1];

    if (pid <= 0 || snprintf(text, sizeof(text), "%0*ld %c\n", CHILD_STATUS_PID_DIGITS,
                             (long) pid, status) != CHILD_STATUS_SIZE)
        msg_panic("child_status_format: bad pid %ld or status %d", (long) pid, status);
    memcpy(record, text, CHILD_STATUS_SIZE);
}

static int valid_status(int status)
{
    return status == CHILD_STATUS_BUSY || status == CHILD_STATUS_IDLE
        || status == CHILD_STATUS_EXIT;
}

int child_status_parse(const char *record, size_t len, pid_t *pid, int *status)
{
    long    value = 0;

    if (len != CHILD_STATUS_SIZE)
        return -1;
    for (int i = 0; i < CHILD_STATUS_PID_DIGITS; i++) {
        if (record[i] < '0' || record[i] > '9')
            return -1;
        value = value * 10 + (record[i] - '0');
    }
    if (value <= 0 || value > INT_MAX)
        return -1;
    if (record[CHILD_STATUS_PID_DIGITS] != ' '
        || !valid_status((unsigned char) record[CHILD_STATUS_PID_DIGITS + 1])
        || record[CHILD_STATUS_PID_DIGITS + 2] != '\n')
        return -1;
    *pid = (pid_t) value;
    *status = (unsigned char) record[CHILD_STATUS_PID_DIGITS + 1];
    return 0;
}

/* True for the names master sets itself: NAME or NAME=... */
static int reserved_name(const char *entry)
{
    static const char *const reserved[] = {"MAIL_CONFIG", CHILD_ENV_LOG_FD};

    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        size_t  len = strlen(reserved[i]);

        if (strncmp(entry, reserved[i], len) == 0 && (entry[len] == 0 || entry[len] == '='))
            return 1;
    }
    return 0;
}

argv_t *child_environment(const char *import_environment, const char *config_dir,
                          int with_log_fd)
{
    argv_t *imports = argv_split(import_environment, ARGV_LIST_DELIMITERS);
    argv_t *env = argv_new(imports->count + 2);
    strbuf *item = strbuf_new(128);

    for (size_t i = 0; i < imports->count; i++) {
        const char *entry = imports->items[i];
        const char *value;

        if (reserved_name(entry))
            continue;
        if (strchr(entry, '=')) {
            argv_add(env, entry);
        } else if ((value = getenv(entry)) != NULL) {
            strbuf_printf(item, "%s=%s", entry, value);
            argv_add(env, item->data);
        }
    }
    strbuf_printf(item, "MAIL_CONFIG=%s", config_dir);
    argv_add(env, item->data);
    if (with_log_fd) {
        strbuf_printf(item, "%s=%d", CHILD_ENV_LOG_FD, CHILD_LOG_FD);
        argv_add(env, item->data);
    }
    strbuf_free(item);
    argv_free(imports);
    return env;
}

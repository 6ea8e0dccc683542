/*
 * dsn_log - per-message delivery status logs. See dsn_log.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "dsn_log.h"
#include "mem.h"
#include "msg.h"
#include "queue_file.h"

/* Reads 1 to 3 digits at *cp; returns 0 on success and advances *cp. */
static int digits(const char **cp)
{
    int     count = 0;

    while (isdigit((unsigned char) **cp) && count < 4) {
        (*cp)++;
        count++;
    }
    return count >= 1 && count <= 3 ? 0 : -1;
}

int dsn_status_valid(const char *status)
{
    const char *cp = status + 1;

    if (status[0] != '2' && status[0] != '4' && status[0] != '5')
        return 0;
    if (*cp++ != '.' || digits(&cp) < 0 || *cp++ != '.' || digits(&cp) < 0)
        return 0;
    return *cp == 0;
}

/* Bounded, control-character-free copy of free text. */
static void clean_text(strbuf *out, const char *text)
{
    size_t  len = strlen(text);

    if (len > DSN_TEXT_MAX)
        len = DSN_TEXT_MAX;
    strbuf_set_mem(out, text, len);
    for (size_t i = 0; i < out->len; i++)
        if ((unsigned char) out->data[i] < 0x20 || out->data[i] == 0x7f)
            out->data[i] = ' ';
}

static void put_text(stream *s, const char *name, const char *value, strbuf *scratch)
{
    clean_text(scratch, value ? value : "");
    attr_put_str(s, name, scratch->data);
}

static int open_log(const char *log_queue, const char *queue_id, strbuf *path)
{
    int     fd;

    queue_path(path, log_queue, queue_id);
    fd = open(path->data, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == ENOENT) {
        char   *dir = xstrdup(path->data);

        for (char *slash = strchr(dir, '/'); slash; slash = strchr(slash + 1, '/')) {
            *slash = 0;
            (void) mkdir(dir, 0700);
            *slash = '/';
        }
        free(dir);
        fd = open(path->data, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    }
    return fd;
}

int dsn_log_append(const char *log_queue, const char *queue_id, const dsn_outcome *o,
                   strbuf *why)
{
    strbuf *path = strbuf_new(64);
    strbuf *scratch = strbuf_new(128);
    stream *s;
    int     fd;
    int     rc;

    if (!queue_id_valid(queue_id) || !dsn_status_valid(o->status)) {
        strbuf_printf(why, "bad queue id or status: %s %s", queue_id, o->status);
        strbuf_free(path);
        strbuf_free(scratch);
        return -1;
    }
    if ((fd = open_log(log_queue, queue_id, path)) < 0) {
        strbuf_printf(why, "open %s: %s", path->data, strerror(errno));
        strbuf_free(path);
        strbuf_free(scratch);
        return -1;
    }
    s = stream_open_fd(fd, 0);          /* one frame < buffer size: one write */
    put_text(s, "recipient", o->recipient, scratch);
    put_text(s, "orig_rcpt", o->orig_rcpt, scratch);
    put_text(s, "dsn_orcpt", o->dsn_orcpt, scratch);
    attr_put_int(s, "dsn_notify", o->dsn_notify);
    attr_put_int(s, "offset", o->offset);
    attr_put_str(s, "status", o->status);
    put_text(s, "action", o->action, scratch);
    put_text(s, "reason", o->reason, scratch);
    put_text(s, "diag_type", o->diag_type, scratch);
    put_text(s, "diag_text", o->diag_text, scratch);
    put_text(s, "mta_type", o->mta_type, scratch);
    put_text(s, "mta_name", o->mta_name, scratch);
    rc = attr_end(s);
    if (stream_close(s) < 0 || rc < 0) {
        strbuf_printf(why, "write %s: %s", path->data, strerror(errno));
        rc = -1;
    }
    strbuf_free(path);
    strbuf_free(scratch);
    return rc;
}

#define OUTCOME_FIELDS 10

static int read_outcome(stream *s, dsn_outcome *o)
{
    strbuf *text[OUTCOME_FIELDS];
    static const char *const names[OUTCOME_FIELDS] = {
        "recipient", "orig_rcpt", "dsn_orcpt", "status", "action", "reason",
        "diag_type", "diag_text", "mta_type", "mta_name",
    };
    char  **slots[OUTCOME_FIELDS] = {
        &o->recipient, &o->orig_rcpt, &o->dsn_orcpt, &o->status, &o->action, &o->reason,
        &o->diag_type, &o->diag_text, &o->mta_type, &o->mta_name,
    };
    attr_spec spec[OUTCOME_FIELDS + 3];
    int     rc;

    for (int i = 0; i < OUTCOME_FIELDS; i++) {
        text[i] = strbuf_new(32);
        spec[i] = (attr_spec) ATTR_STR(names[i], text[i]);
    }
    spec[OUTCOME_FIELDS] = (attr_spec) ATTR_INT("dsn_notify", &o->dsn_notify);
    spec[OUTCOME_FIELDS + 1] = (attr_spec) ATTR_LONG("offset", &o->offset);
    spec[OUTCOME_FIELDS + 2] = (attr_spec) ATTR_END;
    rc = attr_scan(s, ATTR_FLAG_ALLOW_UNKNOWN, spec);
    for (int i = 0; i < OUTCOME_FIELDS; i++)
        *slots[i] = strbuf_steal(text[i]);
    if (rc >= 0 && !dsn_status_valid(o->status))
        rc = -1;
    return rc;
}

static void outcome_free(dsn_outcome *o)
{
    free(o->recipient);
    free(o->orig_rcpt);
    free(o->dsn_orcpt);
    free(o->status);
    free(o->action);
    free(o->reason);
    free(o->diag_type);
    free(o->diag_text);
    free(o->mta_type);
    free(o->mta_name);
}

dsn_outcome_list *dsn_log_read(const char *log_queue, const char *queue_id)
{
    dsn_outcome_list *list = xcalloc(1, sizeof(*list));
    strbuf *path = strbuf_new(64);
    size_t  cap = 0;
    stream *s;
    int     fd;

    queue_path(path, log_queue, queue_id);
    if ((fd = open(path->data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
        if (errno != ENOENT)
            msg_warn("open %s: %m", path->data);
        strbuf_free(path);
        return list;
    }
    s = stream_open_fd(fd, 0);
    while (stream_peek(s) >= 0) {
        dsn_outcome o = {0};

        if (read_outcome(s, &o) < 0) {
            msg_warn("%s: damaged delivery status record; ignoring the rest", path->data);
            outcome_free(&o);
            break;
        }
        if (list->count == cap) {
            cap = cap ? cap * 2 : 8;
            list->items = xreallocarray(list->items, cap, sizeof(dsn_outcome));
        }
        list->items[list->count++] = o;
    }
    stream_close(s);
    strbuf_free(path);
    return list;
}

void dsn_outcome_list_free(dsn_outcome_list *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++)
        outcome_free(&list->items[i]);
    free(list->items);
    free(list);
}

/*
 * pickup - hand the files in maildrop/ to cleanup (docs/pickup.md).
 *
 * A trigger server on public/pickup (master.cf: "pickup unix n - y 60 1
 * pickup"): master wakes it every minute, postdrop after each message.
 * Each wake-up scans maildrop/ once and takes every file in turn. Nothing
 * in maildrop/ is trusted (local users put it there):
 *
 *   - a name that is not a queue ID, a symbolic link, anything but a
 *     regular file, a file with more than one link: removed and logged;
 *   - a file without the complete mark (owner execute bit) is being written
 *     by postdrop and left alone, unless it has not changed for
 *     PICKUP_STALE_TIME (a postdrop that was killed): then removed;
 *   - the records must follow maildrop.h exactly: a file that breaks a rule
 *     is removed, logged with the reason, and nothing of it is queued.
 *
 * A valid file is streamed to cleanup with the flags of a local submission
 * (CLEANUP_FLAG_LOCAL, BOUNCE, FILTER, MAP_OK, and EXTRACT for "sendmail
 * -t"): its arrival time, rewrite_context=local, submit_uid (the file's
 * owner), the DSN attributes, sender, full name, recipients, then the
 * content, led by Postfix's "Received: by HOST (MAIL_NAME, from userid N)"
 * header. The file is removed only after cleanup said the message is
 * queued (or bounced to its sender). When cleanup cannot take it now (a
 * temporary error, or cleanup unreachable), the file stays and the scan
 * stops until the next wake-up. Log: "ID: uid=N from=<sender>" with
 * cleanup's queue ID.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "cleanup_clnt.h"
#include "mail_date.h"
#include "mail_params.h"
#include "mail_sanitize.h"
#include "maildrop.h"
#include "msg.h"
#include "queue_file.h"
#include "record.h"
#include "server.h"

#define PICKUP_STALE_TIME   (24 * 3600)
#define PICKUP_FLAGS        (CLEANUP_FLAG_LOCAL | CLEANUP_FLAG_BOUNCE | CLEANUP_FLAG_FILTER \
                             | CLEANUP_FLAG_MAP_OK)
#define TEMP_PREFIX         "tmp."      /* queue_file_create()'s names before the rename */

enum pickup_result { PICKUP_NEXT, PICKUP_STOP };

typedef struct pickup_file {
    const char *name;                   /* in maildrop/ */
    strbuf *path;
    struct stat st;
    stream *in;
    cleanup_clnt *cleanup;
    maildrop_check check;
    argv_t *attrs;                      /* A records waiting for the sender */
    strbuf *why;
} pickup_file;

static void remove_file(const pickup_file *f, const char *reason)
{
    msg_warn("%s: uid %ld: %s; removing the file", f->path->data, (long) f->st.st_uid, reason);
    if (unlink(f->path->data) < 0 && errno != ENOENT)
        msg_warn("remove %s: %m", f->path->data);
}

/* Opens cleanup and sends what precedes the sender; -1: try later. */
static int open_cleanup(pickup_file *f)
{
    strbuf *why = strbuf_new(64);
    int     flags = PICKUP_FLAGS | (f->check.extract ? CLEANUP_FLAG_EXTRACT : 0);

    f->cleanup = cleanup_clnt_open(flags, why);
    if (f->cleanup == NULL)
        msg_warn("%s: %s; will try again later", f->path->data, why->data);
    strbuf_free(why);
    if (f->cleanup == NULL)
        return -1;
    rec_printf(f->cleanup->stream, REC_TYPE_TIME, "%ld.%06ld", (long) f->check.arrival.tv_sec,
               (long) f->check.arrival.tv_usec);
    rec_put_str(f->cleanup->stream, REC_TYPE_ATTR, "rewrite_context=local");
    rec_printf(f->cleanup->stream, REC_TYPE_ATTR, "submit_uid=%ld", (long) f->st.st_uid);
    for (size_t i = 0; i < f->attrs->count; i++)
        rec_put_str(f->cleanup->stream, REC_TYPE_ATTR, f->attrs->items[i]);
    return 0;
}

static void log_submission(const pickup_file *f)
{
    strbuf *line = strbuf_new(128);

    strbuf_printf(line, "%s: uid=%ld ", f->cleanup->queue_id, (long) f->st.st_uid);
    log_address(line, "from", f->check.sender->data, f->check.sender->len);
    msg_info("%s", line->data);
    strbuf_free(line);
}

/* Postfix's trace header for local submissions, first in the content. */
static void send_received(pickup_file *f)
{
    strbuf *text = strbuf_new(128);

    strbuf_printf(text, "Received: by %s (%s, from userid %ld)", var_myhostname, var_mail_name,
                  (long) f->st.st_uid);
    rec_put(f->cleanup->stream, REC_TYPE_LINE, text->data, text->len);
    strbuf_printf(text, "\tid %s; ", f->cleanup->queue_id);
    mail_date_format(text, f->check.arrival.tv_sec);
    rec_put(f->cleanup->stream, REC_TYPE_LINE, text->data, text->len);
    strbuf_free(text);
}

/* One record, checked and sent on: 0, -1 bad file (f->why), -2 try later. */
static int relay_record(pickup_file *f, int type, const strbuf *data)
{
    if (maildrop_check_record(&f->check, type, data, f->why) < 0)
        return -1;
    switch (type) {
    case REC_TYPE_TIME:
        return 0;
    case REC_TYPE_ATTR:
        if (strncmp(data->data, MAILDROP_ATTR_EXTRACT "=", strlen(MAILDROP_ATTR_EXTRACT) + 1))
            argv_add(f->attrs, data->data);
        return 0;
    case REC_TYPE_SENDER:
        if (open_cleanup(f) < 0)
            return -2;
        log_submission(f);
        break;
    }
    rec_put(f->cleanup->stream, type, data->data, data->len);
    if (type == REC_TYPE_MESSAGE)
        send_received(f);
    return 0;
}

/* The records, then cleanup's verdict. */
static enum pickup_result submit_file(pickup_file *f)
{
    strbuf *data = strbuf_new(1024);
    strbuf *reason = strbuf_new(64);
    int     type = REC_EOF;
    int     rc = 0;
    int     status;

    while (rc == 0 && (type = rec_get(f->in, data, REC_DATA_MAX)) >= 0)
        rc = relay_record(f, type, data);
    if (rc == 0 && type != REC_EOF) {
        strbuf_set(f->why, rec_strerror(type));
        rc = -1;
    }
    if (rc == 0 && maildrop_check_end(&f->check, f->why) < 0)
        rc = -1;
    strbuf_free(data);
    if (rc < 0) {
        if (f->cleanup)
            cleanup_clnt_abort(f->cleanup);
        if (rc == -1)
            remove_file(f, f->why->data);
        strbuf_free(reason);
        return rc == -1 ? PICKUP_NEXT : PICKUP_STOP;
    }
    status = cleanup_clnt_close(f->cleanup, reason);
    if (status & (CLEANUP_STAT_WRITE | CLEANUP_STAT_DEFER)) {
        msg_warn("%s: %s; will try again later", f->path->data, reason->data);
        strbuf_free(reason);
        return PICKUP_STOP;
    }
    if (status != 0)
        remove_file(f, reason->len ? reason->data : "message not accepted by cleanup");
    else if (unlink(f->path->data) < 0)
        msg_warn("remove %s: %m", f->path->data);
    strbuf_free(reason);
    return PICKUP_NEXT;
}

/* Files postdrop is still writing stay, unless they are stale. */
static int incomplete(const pickup_file *f)
{
    if (f->st.st_mode & S_IXUSR)
        return 0;
    if (time(NULL) - f->st.st_mtime > PICKUP_STALE_TIME)
        remove_file(f, "incomplete file left over by postdrop");
    return 1;
}

/* Why this directory entry is no maildrop file, or NULL. */
static const char *unacceptable(pickup_file *f)
{
    if (S_ISLNK(f->st.st_mode))
        return "symbolic link";
    if (!S_ISREG(f->st.st_mode))
        return "not a regular file";
    if (!queue_id_valid(f->name))
        return "not a maildrop file name";
    if (f->st.st_nlink != 1) {
        strbuf_printf(f->why, "file has %lu links", (unsigned long) f->st.st_nlink);
        return f->why->data;
    }
    return NULL;
}

/* Checks one directory entry and opens it: 0, or -1 when done with it. */
static int open_file(pickup_file *f)
{
    struct stat opened;
    const char *reason;
    int     fd;

    if (lstat(f->path->data, &f->st) < 0) {
        if (errno != ENOENT)
            msg_warn("lstat %s: %m", f->path->data);
        return -1;
    }
    if (strncmp(f->name, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0 && S_ISREG(f->st.st_mode)) {
        if (time(NULL) - f->st.st_mtime > PICKUP_STALE_TIME)
            remove_file(f, "temporary file left over by postdrop");
        return -1;
    }
    if (S_ISDIR(f->st.st_mode)) {
        msg_warn("%s: uid %ld: a directory; leaving it alone", f->path->data,
                 (long) f->st.st_uid);
        return -1;
    }
    if ((reason = unacceptable(f)) != NULL) {
        remove_file(f, reason);
        return -1;
    }
    if (incomplete(f))
        return -1;
    fd = open(f->path->data, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &opened) < 0 || opened.st_dev != f->st.st_dev
        || opened.st_ino != f->st.st_ino || opened.st_nlink != 1) {
        if (fd < 0 && errno == ENOENT)
            return -1;
        msg_warn("%s: changed or unreadable while opened; skipped", f->path->data);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    f->in = stream_open_fd(fd, var_ipc_timeout);
    return 0;
}

static enum pickup_result pickup_one(const char *name)
{
    pickup_file f = {.name = name };
    enum pickup_result result = PICKUP_NEXT;

    f.path = strbuf_new(64);
    f.why = strbuf_new(64);
    f.attrs = argv_new(4);
    strbuf_printf(f.path, "%s/%s", QUEUE_MAILDROP, name);
    maildrop_check_init(&f.check, 0);
    if (open_file(&f) == 0) {
        result = submit_file(&f);
        stream_close(f.in);
    }
    maildrop_check_free(&f.check);
    argv_free(f.attrs);
    strbuf_free(f.why);
    strbuf_free(f.path);
    return result;
}

static void pickup_scan(const char *data, size_t len, const server_ctx *ctx)
{
    DIR    *dir = opendir(QUEUE_MAILDROP);
    struct dirent *entry;

    (void) data;
    (void) len;
    (void) ctx;
    if (dir == NULL) {
        msg_warn("open directory %s: %m", QUEUE_MAILDROP);
        return;
    }
    while ((entry = readdir(dir)) != NULL)
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0
            && pickup_one(entry->d_name) == PICKUP_STOP)
            break;
    closedir(dir);
}

int     main(int argc, char **argv)
{
    static const server_spec spec = {
        .trigger = pickup_scan,
    };

    trigger_server_main(argc, argv, &spec);
}

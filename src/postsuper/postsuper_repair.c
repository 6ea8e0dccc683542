/*
 * postsuper_repair - structure repair, purging and requeueing. See postsuper.h.
 *
 * Requeueing hands the message to cleanup (cleanup_clnt) as a new message:
 * the envelope attributes (except log_ident, and filter and redirect, which
 * cleanup takes from no client), the sender, the recipients
 * still to be delivered with their original address, ORCPT and NOTIFY,
 * and the content records unchanged. cleanup applies address mapping again
 * (canonical, virtual) and gives it a new queue ID; only after cleanup
 * has committed it are the original and its logs removed. A crash in
 * between leaves both, so the message may be delivered twice, never lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "cleanup_clnt.h"
#include "instance_lock.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "postsuper.h"
#include "queue_envelope.h"
#include "queue_file.h"
#include "queue_scan.h"
#include "record.h"

#define TEMP_PREFIX "tmp."

static const char *const message_queues[] = {
    QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD, QUEUE_CORRUPT, NULL,
};
static const char *const log_queues[] = {QUEUE_DEFER, QUEUE_BOUNCE, QUEUE_TRACE, NULL};

/* Collects (path, name) pairs, so renaming never races the directory walk. */
typedef struct found_files {
    argv_t *paths;
    argv_t *names;
} found_files;

static void collect(const char *path, const char *name, void *context)
{
    found_files *found = context;

    argv_add(found->paths, path);
    argv_add(found->names, name);
}

static void find_files(const char *queue, found_files *found)
{
    found->paths = argv_new(32);
    found->names = argv_new(32);
    if (queue_walk(queue, collect, found) < 0 && errno != ENOENT)
        msg_warn("scan %s: %m", queue);
}

static void found_free(found_files *found)
{
    argv_free(found->paths);
    argv_free(found->names);
}

/* Renames, creating the hash subdirectories of the target. */
static int move_path(const char *from, const char *to)
{
    if (rename(from, to) == 0)
        return 0;
    if (errno == ENOENT) {
        char   *dir = xstrdup(to);

        for (char *slash = strchr(dir, '/'); slash; slash = strchr(slash + 1, '/')) {
            *slash = 0;
            (void) mkdir(dir, 0700);
            *slash = '/';
        }
        free(dir);
        if (rename(from, to) == 0)
            return 0;
    }
    msg_warn("rename file %s as %s: %m", from, to);
    return -1;
}

/* Structure ------------------------------------------------------------ */

/* The queue ID a file's inode gives it, or "" when the name is consistent. */
static void inode_id(strbuf *out, const char *path, const char *name)
{
    struct stat st;
    char   *end;
    unsigned long inode;

    strbuf_reset(out);
    if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || strlen(name) <= 5)
        return;
    inode = strtoul(name + 5, &end, 16);
    if (*end == 0 && inode == (unsigned long) st.st_ino)
        return;
    strbuf_printf(out, "%.5s%lX", name, (unsigned long) st.st_ino);
}

static void rename_logs(const char *old_id, const char *new_id)
{
    strbuf *from = strbuf_new(64);
    strbuf *to = strbuf_new(64);
    struct stat st;

    for (int i = 0; log_queues[i]; i++) {
        queue_path(from, log_queues[i], old_id);
        queue_path(to, log_queues[i], new_id);
        if (lstat(from->data, &st) == 0 && move_path(from->data, to->data) == 0)
            msg_info("renamed file %s as %s", from->data, to->data);
    }
    strbuf_free(from);
    strbuf_free(to);
}

/* A message file named for another inode; 1 when it was renamed. */
static int repair_inode(const char *queue, const char *path, const char *name)
{
    strbuf *new_id = strbuf_new(32);
    strbuf *target = strbuf_new(64);
    struct stat st;
    int     renamed = 0;

    inode_id(new_id, path, name);
    if (new_id->len > 0) {
        msg_warn("name/inode mismatch: %s", path);
        queue_path(target, queue, new_id->data);
        if (lstat(target->data, &st) == 0) {
            msg_warn("%s exists: %s left alone", target->data, path);
        } else if (move_path(path, target->data) == 0) {
            msg_info("renamed file %s as %s", path, target->data);
            rename_logs(name, new_id->data);
            renamed = 1;
        }
    }
    strbuf_free(new_id);
    strbuf_free(target);
    return renamed;
}

/* A file outside the subdirectory its queue ID belongs in. */
static void repair_place(const char *queue, const char *path, const char *name)
{
    strbuf *target = strbuf_new(64);

    queue_path(target, queue, name);
    if (strcmp(target->data, path) != 0 && move_path(path, target->data) == 0)
        msg_info("renamed file %s as %s", path, target->data);
    strbuf_free(target);
}

static int repair_queue(const char *queue, int is_message_queue)
{
    found_files found;
    int     renamed = 0;

    find_files(queue, &found);
    for (size_t i = 0; i < found.names->count; i++) {
        const char *path = found.paths->items[i];
        const char *name = found.names->items[i];

        if (!queue_id_valid(name)) {
            if (strncmp(name, TEMP_PREFIX, strlen(TEMP_PREFIX)) != 0)
                msg_warn("bogus file name: %s", path);
        } else if (is_message_queue && repair_inode(queue, path, name)) {
            renamed++;
        } else {
            repair_place(queue, path, name);
        }
    }
    found_free(&found);
    return renamed;
}

void postsuper_structure(void)
{
    int     renamed = 0;

    for (int i = 0; message_queues[i]; i++)
        renamed += repair_queue(message_queues[i], 1);
    for (int i = 0; log_queues[i]; i++)
        (void) repair_queue(log_queues[i], 0);
    if (renamed > 0)
        msg_info("Renamed to match inode number: %d message%s", renamed, renamed == 1 ? "" : "s");
}

/* Purge ---------------------------------------------------------------- */

static void purge_queue(const char *queue, time_t cutoff, int incomplete_too)
{
    found_files found;

    find_files(queue, &found);
    for (size_t i = 0; i < found.names->count; i++) {
        const char *path = found.paths->items[i];
        const char *name = found.names->items[i];
        struct stat st;
        int     temporary = strncmp(name, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0;

        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_mtime > cutoff)
            continue;
        if (temporary || (incomplete_too && queue_id_valid(name) && !queue_file_is_complete(&st))) {
            if (unlink(path) == 0)
                msg_info("removed file %s", path);
            else
                msg_warn("remove file %s: %m", path);
        }
    }
    found_free(&found);
}

void postsuper_purge(void)
{
    pid_t   pid;
    time_t  cutoff = time(NULL);

    if (instance_running(var_queue_directory, var_data_directory, &pid))
        cutoff -= var_daemon_timeout;
    purge_queue(QUEUE_INCOMING, cutoff, 1);
    purge_queue(QUEUE_MAILDROP, cutoff, 1);
    for (int i = 1; message_queues[i]; i++)
        purge_queue(message_queues[i], cutoff, 0);
}

void postsuper_touch(const char *queue, const char *id)
{
    strbuf *path = strbuf_new(64);

    queue_path(path, queue, id);
    if (utimes(path->data, NULL) < 0)
        msg_warn("%s: reset time stamps: %m", id);
    strbuf_free(path);
}

/* Requeue -------------------------------------------------------------- */

/* Attributes cleanup decides itself, or accepts from no client. */
static int attribute_kept(const char *name)
{
    static const char *const dropped[] = {"log_ident", "filter", "redirect", NULL};

    for (int i = 0; dropped[i]; i++)
        if (strcmp(name, dropped[i]) == 0)
            return 0;
    return 1;
}

static void put_attributes(stream *s, const queue_envelope *env)
{
    argv_t *names = htable_keys(env->attributes);

    for (size_t i = 0; i < names->count; i++)
        if (attribute_kept(names->items[i]))
            rec_printf(s, REC_TYPE_ATTR, "%s=%s", names->items[i],
                       (const char *) htable_get(env->attributes, names->items[i]));
    argv_free(names);
}

static void put_recipients(stream *s, const queue_envelope *env)
{
    for (size_t i = 0; i < env->recipient_count; i++) {
        const queue_recipient *r = &env->recipients[i];

        if (r->done)
            continue;
        if (r->orig_rcpt[0])
            rec_put_str(s, REC_TYPE_ORIG_RCPT, r->orig_rcpt);
        if (r->dsn_orcpt[0])
            rec_put_str(s, REC_TYPE_DSN_ORCPT, r->dsn_orcpt);
        if (r->dsn_notify)
            rec_printf(s, REC_TYPE_DSN_NOTIFY, "%d", r->dsn_notify);
        rec_put_str(s, REC_TYPE_RCPT, r->address);
    }
}

/* Copies the content records; 0, or -1 when the original is damaged. */
static int put_content(stream *out, stream *in, const queue_envelope *env)
{
    strbuf *data = strbuf_new(256);
    int     type;

    if (queue_content_start(in, env) < 0) {
        strbuf_free(data);
        return -1;
    }
    while ((type = queue_content_next(in, data)) == REC_TYPE_LINE || type == REC_TYPE_PARTIAL)
        rec_put(out, type, data->data, data->len);
    strbuf_free(data);
    return type == REC_TYPE_EXTRACTED ? 0 : -1;
}

static int resubmit(const char *id, queue_file *qf, const queue_envelope *env)
{
    strbuf *why = strbuf_new(64);
    cleanup_clnt *cl = cleanup_clnt_open(CLEANUP_FLAG_MAP_OK, why);
    int     status;

    if (cl == NULL) {
        msg_warn("%s: cannot requeue: %s", id, why->data);
        strbuf_free(why);
        return -1;
    }
    put_attributes(cl->stream, env);
    rec_put_str(cl->stream, REC_TYPE_SENDER, env->sender);
    if (env->fullname)
        rec_put_str(cl->stream, REC_TYPE_FULLNAME, env->fullname);
    put_recipients(cl->stream, env);
    rec_put(cl->stream, REC_TYPE_MESSAGE, "", 0);
    if (put_content(cl->stream, qf->stream, env) < 0) {
        msg_warn("%s: cannot requeue: damaged content", id);
        cleanup_clnt_abort(cl);
        strbuf_free(why);
        return -1;
    }
    rec_put(cl->stream, REC_TYPE_EXTRACTED, "", 0);
    rec_put(cl->stream, REC_TYPE_END, "", 0);
    if ((status = cleanup_clnt_close(cl, why)) != CLEANUP_STAT_OK)
        msg_warn("%s: cannot requeue: %s", id, why->len ? why->data : "cleanup error");
    strbuf_free(why);
    return status == CLEANUP_STAT_OK ? 0 : -1;
}

int postsuper_requeue(const char *queue, const char *id)
{
    strbuf *why = strbuf_new(64);
    queue_file *qf = queue_file_open(queue, id, O_RDONLY, why);
    queue_envelope env;
    int     rc = -1;

    if (qf == NULL) {
        msg_warn("%s: %s", id, why->data);
    } else if (queue_envelope_read(qf->stream, &env, 0, why) < 0) {
        msg_warn("%s: cannot requeue: %s", id, why->data);
    } else {
        if (queue_envelope_pending(&env) == 0)
            msg_warn("%s: not requeued: no recipients left to deliver", id);
        else if (resubmit(id, qf, &env) == 0)
            rc = 0;
        queue_envelope_free(&env);
    }
    if (qf)
        queue_file_close(qf);
    if (rc == 0) {
        if (queue_file_remove(queue, id) < 0 && errno != ENOENT)
            msg_warn("remove %s/%s: %m", queue, id);
        for (int i = 0; log_queues[i]; i++)
            (void) queue_file_remove(log_queues[i], id);
    }
    strbuf_free(why);
    return rc;
}

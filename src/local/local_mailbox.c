/*
 * local_mailbox - the end of an expansion: a user's mailbox
 * (mailbox_command_maps by user name, mailbox_command, home_mailbox with
 * Maildir when it ends in '/', else mail_spool_directory) and "/file"
 * destinations (a regular file, a Maildir "/dir/", or a character device
 * such as /dev/null, written without lock or truncation).
 *
 * Files are opened with mbox_open() (safe_open: no symbolic link, one hard
 * link, not swapped between check and open, owned by the user when
 * strict_mailbox_ownership) and written with the user's rights (set_eugid).
 * A mailbox that cannot be opened safely is never written: the delivery is
 * deferred and a warning logged. A failed write truncates the mailbox back
 * to its size before the delivery.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "expand.h"
#include "local.h"
#include "mail_copy.h"
#include "mail_params.h"
#include "mbox_open.h"
#include "mem.h"
#include "msg.h"
#include "set_eugid.h"

/* Mailboxes always get Delivered-To:; commands, files and forwarded
 * copies when prepend_delivered_header names them. */
int local_wants_delivered_to(const char *kind)
{
    argv_t *words = argv_split(var_prepend_delivered_header, ARGV_LIST_DELIMITERS);
    int     wanted = strcmp(kind, "mailbox") == 0 || argv_contains(words, kind);

    argv_free(words);
    return wanted;
}

void local_copy_args(mail_copy_args *args, local_ctx *ctx, const char *kind)
{
    const deliver_recipient *rcpt = &ctx->d->req->rcpt[ctx->rcpt];

    memset(args, 0, sizeof(*args));
    args->sender = ctx->d->req->sender;
    args->delivered_to = ctx->delivered_to;
    args->orig_rcpt = rcpt->orig_rcpt[0] ? rcpt->orig_rcpt : rcpt->address;
    args->flags = MAIL_COPY_RETURN_PATH | MAIL_COPY_ORIG_RCPT;
    if (local_wants_delivered_to(kind))
        args->flags |= MAIL_COPY_DELIVERED;
}

static int over_size_limit(const local_ctx *ctx, long current)
{
    return var_mailbox_size_limit > 0
        && current + ctx->d->req->data_size > var_mailbox_size_limit;
}

static void report_failure(local_ctx *ctx, const local_level *level, const char *address,
                           const char *what, const char *why, int error)
{
    strbuf *reason = strbuf_new(128);
    int     permanent = error == EFBIG || error == EDQUOT;

    strbuf_printf(reason, "%s. %s", what, why);
    local_report(ctx, level, address, permanent ? LOCAL_BOUNCE : LOCAL_DEFER,
                 permanent ? "5.2.2" : "4.2.0", reason->data, NULL);
    strbuf_free(reason);
}

/* A file mbox_open() just created as root (its owner is not checked). */
static int created_by_root(const mbox *mb)
{
    struct stat st;

    return fstat(mb->stream->fd, &st) == 0 && st.st_uid == 0 && st.st_size == 0;
}

/*
 * Appends to an mbox file. The file is opened (and dot-locked) as
 * open_uid:open_gid, written as write_uid:write_gid. Returns 0 when
 * delivered, else reports the failure and returns -1.
 */
static int append_mbox(local_ctx *ctx, const local_level *level, const char *address,
                       const char *path, const char *what, uid_t owner, uid_t open_uid,
                       gid_t open_gid, uid_t write_uid, gid_t write_gid, int locks,
                       const char *kind)
{
    strbuf *why = strbuf_new(64);
    mail_copy_args args;
    mbox   *mb;
    int     rc = -1;
    int     error = 0;

    set_eugid(open_uid, open_gid);
    mb = mbox_open(path, owner, write_gid, locks, why);
    if (mb == NULL) {
        local_rest();
        msg_warn("%s: %s: %s", ctx->d->req->queue_id, what, why->data);
        report_failure(ctx, level, address, what, why->data, 0);
        strbuf_free(why);
        return -1;
    }
    if (owner == (uid_t) -1 && geteuid() == 0 && created_by_root(mb))
        (void) fchown(mb->stream->fd, write_uid, write_gid);
    local_copy_args(&args, ctx, kind);
    args.flags |= MAIL_COPY_MBOX;
    set_eugid(write_uid, write_gid);
    if (over_size_limit(ctx, mb->orig_size)) {
        strbuf_set(why, "error writing message: File too large");
        error = EFBIG;
    } else if (mail_copy(ctx->d->qf->stream, ctx->d->req->data_offset, mb->stream, &args,
                         why) != MAIL_COPY_OK) {
        error = errno;
        mbox_truncate(mb);
    } else {
        rc = 0;
    }
    set_eugid(open_uid, open_gid);
    if (mbox_close(mb) < 0 && rc == 0) {
        error = errno;
        strbuf_printf(why, "error writing message: %s", strerror(error));
        rc = -1;
    }
    local_rest();
    if (rc < 0)
        report_failure(ctx, level, address, what, why->data, error);
    strbuf_free(why);
    return rc;
}

/* mkdir -p as the current effective user (one stat when the directory exists). */
static int make_dirs(const char *path, strbuf *why)
{
    strbuf *part;
    struct stat st;
    int     rc = 0;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    part = strbuf_new(64);
    for (const char *p = path; rc == 0 && *p; p++) {
        strbuf_append_char(part, *p);
        if ((p[1] == '/' || p[1] == 0) && part->len > 1
            && mkdir(part->data, 0700) < 0 && errno != EEXIST) {
            strbuf_printf(why, "create maildir directory %s: %s", part->data, strerror(errno));
            rc = -1;
        }
    }
    strbuf_free(part);
    return rc;
}

static void maildir_name(strbuf *name)
{
    static unsigned long count;
    struct timeval now;
    char    host[256];

    gettimeofday(&now, NULL);
    if (gethostname(host, sizeof(host)) < 0)
        strcpy(host, "localhost");
    host[sizeof(host) - 1] = 0;
    for (char *p = host; *p; p++)
        if (*p == '/' || *p == ':')
            *p = '_';
    strbuf_printf(name, "%ld.M%ldP%ldQ%lu.%s", (long) now.tv_sec, (long) now.tv_usec,
                  (long) getpid(), ++count, host);
}

/* Writes one Maildir message as the current effective user. */
static int write_maildir(local_ctx *ctx, const char *dir, const char *kind, strbuf *why)
{
    strbuf *tmp = strbuf_new(128);
    strbuf *new = strbuf_new(128);
    strbuf *name = strbuf_new(64);
    mail_copy_args args;
    stream *out;
    int     fd;
    int     rc = -1;

    strbuf_printf(tmp, "%s/tmp", dir);
    strbuf_printf(new, "%s/new", dir);
    if (make_dirs(tmp->data, why) < 0 || make_dirs(new->data, why) < 0)
        goto done;
    strbuf_printf(tmp, "%s/cur", dir);
    if (make_dirs(tmp->data, why) < 0)
        goto done;
    maildir_name(name);
    strbuf_printf(tmp, "%s/tmp/%s", dir, name->data);
    strbuf_printf(new, "%s/new/%s", dir, name->data);
    if ((fd = open(tmp->data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
        strbuf_printf(why, "create maildir file %s: %s", tmp->data, strerror(errno));
        goto done;
    }
    out = stream_open_fd(fd, 0);
    local_copy_args(&args, ctx, kind);
    if (mail_copy(ctx->d->qf->stream, ctx->d->req->data_offset, out, &args, why) == MAIL_COPY_OK
        && fsync(fd) == 0 && link(tmp->data, new->data) == 0) {
        rc = 0;
    } else if (why->len == 0) {
        strbuf_printf(why, "create maildir file %s: %s", new->data, strerror(errno));
    }
    stream_close(out);
    unlink(tmp->data);
  done:
    strbuf_free(tmp);
    strbuf_free(new);
    strbuf_free(name);
    return rc;
}

static void deliver_maildir(local_ctx *ctx, const local_level *level, const char *address,
                            const char *dir, uid_t uid, gid_t gid, const char *kind)
{
    strbuf *why = strbuf_new(64);
    strbuf *what = strbuf_new(64);
    int     rc;
    int     error;

    strbuf_printf(what, "cannot update maildir %s", dir);
    if (over_size_limit(ctx, 0)) {
        report_failure(ctx, level, address, what->data,
                       "error writing message: File too large", EFBIG);
    } else {
        set_eugid(uid, gid);
        rc = write_maildir(ctx, dir, kind, why);
        error = errno;
        local_rest();
        if (rc == 0)
            local_report(ctx, level, address, LOCAL_SENT, "2.0.0", "delivered to maildir",
                         "delivered");
        else
            report_failure(ctx, level, address, what->data, why->data, error);
    }
    strbuf_free(why);
    strbuf_free(what);
}

static void deliver_spool_mbox(local_ctx *ctx, const local_level *level, const char *address,
                               const local_user *user, const char *path)
{
    struct stat st;
    int     as_user = stat(var_mail_spool_directory, &st) == 0 && (st.st_mode & S_IWOTH);
    uid_t   owner = var_strict_mailbox_ownership ? user->uid : (uid_t) -1;
    strbuf *what = strbuf_new(64);

    strbuf_printf(what, "cannot update mailbox %s for user %s", path, user->name);
    if (append_mbox(ctx, level, address, path, what->data, owner,
                    as_user ? user->uid : 0, as_user ? user->gid : 0, user->uid, user->gid,
                    local_lock_styles, "mailbox") == 0)
        local_report(ctx, level, address, LOCAL_SENT, "2.0.0", "delivered to mailbox",
                     "delivered");
    strbuf_free(what);
}

static int mailbox_command(local_ctx *ctx, const local_level *level, const char *address,
                           const local_user *user, const char *extension)
{
    const char *command;

    if (maps_find(local_command_maps, user->name, 0, &command) != MAP_OK)
        command = var_mailbox_command;
    if (*command == 0)
        return 0;
    local_deliver_command(ctx, level, address, command, user, extension);
    return 1;
}

void local_deliver_mailbox(local_ctx *ctx, const local_level *level, const char *address,
                           const local_user *user, const char *extension)
{
    strbuf *path;

    if (local_seen(ctx, "mailbox", user->name))
        return;
    if (mailbox_command(ctx, level, address, user, extension))
        return;
    path = strbuf_new(64);
    if (*var_home_mailbox) {
        strbuf_printf(path, "%s/%s", user->home, var_home_mailbox);
        if (strbuf_last(path) == '/') {
            strbuf_truncate(path, path->len - 1);
            deliver_maildir(ctx, level, address, path->data, user->uid, user->gid, "mailbox");
        } else {
            strbuf *what = strbuf_new(64);
            uid_t   owner = var_strict_mailbox_ownership ? user->uid : (uid_t) -1;

            strbuf_printf(what, "cannot update mailbox %s for user %s", path->data, user->name);
            if (append_mbox(ctx, level, address, path->data, what->data, owner, user->uid,
                            user->gid, user->uid, user->gid, local_lock_styles,
                            "mailbox") == 0)
                local_report(ctx, level, address, LOCAL_SENT, "2.0.0", "delivered to mailbox",
                             "delivered");
            strbuf_free(what);
        }
    } else {
        strbuf_printf(path, "%s/%s", var_mail_spool_directory, user->name);
        deliver_spool_mbox(ctx, level, address, user, path->data);
    }
    strbuf_free(path);
}

static int is_character_device(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

/* A device such as /dev/null: written as the level's user, no lock, no truncation. */
static void deliver_device(local_ctx *ctx, const local_level *level, const char *address,
                           const char *path)
{
    strbuf *why = strbuf_new(64);
    strbuf *done = strbuf_new(64);
    mail_copy_args args;
    stream *out;
    int     fd;

    set_eugid(level->uid, level->gid);
    fd = open(path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    local_rest();
    if (fd < 0) {
        strbuf_printf(why, "cannot append message to file %s: %s", path, strerror(errno));
        local_report(ctx, level, address, LOCAL_DEFER, "4.2.0", why->data, NULL);
    } else {
        out = stream_open_fd(fd, 0);
        local_copy_args(&args, ctx, "file");
        args.flags |= MAIL_COPY_MBOX;
        if (mail_copy(ctx->d->qf->stream, ctx->d->req->data_offset, out, &args, why)
            == MAIL_COPY_OK) {
            strbuf_printf(done, "delivered to file: %s", path);
            local_report(ctx, level, address, LOCAL_SENT, "2.0.0", done->data, "delivered");
        } else {
            local_report(ctx, level, address, LOCAL_DEFER, "4.2.0", why->data, NULL);
        }
        stream_close(out);
    }
    strbuf_free(why);
    strbuf_free(done);
}

void local_deliver_file(local_ctx *ctx, const local_level *level, const char *address,
                        const char *path)
{
    size_t  len = strlen(path);
    local_level rights = *level;

    if (local_seen(ctx, "file", path))
        return;
    if (rights.uid == 0) {
        rights.uid = local_default_uid;
        rights.gid = local_default_gid;
    }
    level = &rights;
    if (is_character_device(path)) {
        deliver_device(ctx, level, address, path);
    } else if (len > 1 && path[len - 1] == '/') {
        char   *dir = xstrndup(path, len - 1);

        deliver_maildir(ctx, level, address, dir, level->uid, level->gid, "file");
        free(dir);
    } else {
        strbuf *what = strbuf_new(64);
        strbuf *done = strbuf_new(64);

        strbuf_printf(what, "cannot append message to file %s", path);
        strbuf_printf(done, "delivered to file: %s", path);
        if (append_mbox(ctx, level, address, path, what->data, (uid_t) -1, level->uid,
                        level->gid, level->uid, level->gid,
                        local_lock_styles & ~MBOX_LOCK_DOTLOCK, "file") == 0)
            local_report(ctx, level, address, LOCAL_SENT, "2.0.0", done->data, "delivered");
        strbuf_free(what);
        strbuf_free(done);
    }
}

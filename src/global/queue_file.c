/*
 * queue_file - queue names, IDs and file life cycle. See queue_file.h.
 */
#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "argv.h"
#include "mail_params.h"
#include "mem.h"
#include "queue_file.h"
#include "record.h"

static const char *const queue_names[] = {
    QUEUE_MAILDROP, QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD,
    QUEUE_CORRUPT, QUEUE_BOUNCE, QUEUE_DEFER, QUEUE_TRACE, QUEUE_SAVED, NULL,
};

int queue_name_valid(const char *queue_name)
{
    for (int i = 0; queue_names[i]; i++)
        if (strcmp(queue_names[i], queue_name) == 0)
            return 1;
    return 0;
}

int queue_id_valid(const char *id)
{
    size_t  len = strlen(id);

    if (len < 6 || len > QUEUE_ID_MAX)
        return 0;
    for (const char *cp = id; *cp; cp++)
        if (!isdigit((unsigned char) *cp) && !(*cp >= 'A' && *cp <= 'F'))
            return 0;
    return 1;
}

static int queue_hashed(const char *queue_name)
{
    static argv_t *hashed;
    static char *source;

    if (source == NULL || strcmp(source, var_hash_queue_names ? var_hash_queue_names : "") != 0) {
        free(source);
        argv_free(hashed);
        source = xstrdup(var_hash_queue_names ? var_hash_queue_names : "");
        hashed = argv_split(source, ARGV_LIST_DELIMITERS);
    }
    return argv_contains(hashed, queue_name);
}

static int hash_depth(void)
{
    return var_hash_queue_depth > 0 ? var_hash_queue_depth : 1;
}

void queue_path(strbuf *path, const char *queue_name, const char *id)
{
    strbuf_set(path, queue_name);
    if (queue_hashed(queue_name))
        for (int i = 0; i < hash_depth() && id[i]; i++)
            strbuf_append_printf(path, "/%c", id[i]);
    strbuf_append_printf(path, "/%s", id);
}

/* Creates the hash subdirectories leading to path (mode 0700). */
static int make_parents(const strbuf *path)
{
    char   *copy = xstrdup(path->data);
    char   *slash = strchr(copy, '/');
    int     rc = 0;

    while (slash && (slash = strchr(slash + 1, '/')) != NULL) {
        *slash = 0;
        if (mkdir(copy, 0700) < 0 && errno != EEXIST)
            rc = -1;
        *slash = '/';
    }
    free(copy);
    return rc;
}

static int fsync_parent(const char *path)
{
    char   *copy = xstrdup(path);
    char   *slash = strrchr(copy, '/');
    int     fd;
    int     rc;

    if (slash)
        *slash = 0;
    fd = open(slash ? copy : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return errno == EACCES ? 0 : -1;        /* postdrop may not read maildrop/ */
    rc = fsync(fd);
    close(fd);
    return rc;
}

static queue_file *queue_file_new(const char *queue_name, const char *id, int fd)
{
    queue_file *qf = xcalloc(1, sizeof(*qf));

    snprintf(qf->queue_name, sizeof(qf->queue_name), "%s", queue_name);
    snprintf(qf->id, sizeof(qf->id), "%s", id);
    qf->path = strbuf_new(64);
    queue_path(qf->path, queue_name, id);
    qf->stream = stream_open_fd(fd, 0);
    return qf;
}

static void queue_file_free(queue_file *qf)
{
    strbuf_free(qf->path);
    free(qf);
}

queue_file *queue_file_create(const char *queue_name, strbuf *why)
{
    static unsigned counter;
    strbuf *temp = strbuf_new(64);
    struct timeval tv;
    struct stat st;
    char    id[QUEUE_ID_MAX + 1];
    queue_file *qf;
    int     fd;

    gettimeofday(&tv, NULL);
    strbuf_printf(temp, "%s/tmp.%ld.%ld.%u", queue_name, (long) getpid(),
                  (long) tv.tv_usec, counter++);
    fd = open(temp->data, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
              QUEUE_MODE_WRITING);
    if (fd < 0 || fstat(fd, &st) < 0) {
        strbuf_printf(why, "create file %s: %s", temp->data, strerror(errno));
        if (fd >= 0)
            close(fd);
        strbuf_free(temp);
        return NULL;
    }
    snprintf(id, sizeof(id), "%05lX%lX", (unsigned long) tv.tv_usec, (unsigned long) st.st_ino);
    qf = queue_file_new(queue_name, id, fd);
    if (make_parents(qf->path) < 0 || renameat2(AT_FDCWD, temp->data, AT_FDCWD, qf->path->data,
                                                RENAME_NOREPLACE) < 0) {
        strbuf_printf(why, "rename %s to %s: %s", temp->data, qf->path->data, strerror(errno));
        unlink(temp->data);
        stream_close(qf->stream);
        queue_file_free(qf);
        qf = NULL;
    }
    strbuf_free(temp);
    return qf;
}

/* Renames a file still being written into another queue (no one reads it yet). */
static int queue_file_relocate(queue_file *qf, const char *queue_name, strbuf *why)
{
    strbuf *old_path = strbuf_from(qf->path->data);
    int     rc;

    if (strcmp(qf->queue_name, queue_name) == 0) {
        strbuf_free(old_path);
        return 0;
    }
    if (!queue_name_valid(queue_name)) {
        strbuf_printf(why, "commit %s: bad queue name %s", qf->path->data, queue_name);
        strbuf_free(old_path);
        return -1;
    }
    rc = queue_file_move(qf->queue_name, qf->id, queue_name, why);
    if (rc == 0) {
        snprintf(qf->queue_name, sizeof(qf->queue_name), "%s", queue_name);
        queue_path(qf->path, queue_name, qf->id);
        (void) fsync_parent(old_path->data);
    }
    strbuf_free(old_path);
    return rc;
}

int queue_file_commit(queue_file *qf, strbuf *why)
{
    return queue_file_commit_as(qf, qf->queue_name, QUEUE_MODE_COMPLETE, why);
}

int queue_file_commit_as(queue_file *qf, const char *queue_name, mode_t mode, strbuf *why)
{
    int     fd = qf->stream->fd;
    int     rc = 0;

    if (queue_file_relocate(qf, queue_name, why) < 0) {
        rc = -1;
    } else if (stream_flush(qf->stream) < 0 || fchmod(fd, mode) < 0 || fsync(fd) < 0
               || fsync_parent(qf->path->data) < 0) {
        strbuf_printf(why, "commit %s: %s", qf->path->data, strerror(errno));
        rc = -1;
    }
    if (stream_close(qf->stream) < 0 && rc == 0) {
        strbuf_printf(why, "close %s: %s", qf->path->data, strerror(errno));
        rc = -1;
    }
    if (rc < 0)
        unlink(qf->path->data);
    queue_file_free(qf);
    return rc;
}

void queue_file_abort(queue_file *qf)
{
    int     fd = qf->stream->fd;

    unlink(qf->path->data);
    stream_release(qf->stream);         /* unwritten buffer is dropped */
    close(fd);
    queue_file_free(qf);
}

queue_file *queue_file_open(const char *queue_name, const char *id, int flags, strbuf *why)
{
    strbuf *path = strbuf_new(64);
    int     fd;

    if (!queue_id_valid(id) || !queue_name_valid(queue_name)) {
        strbuf_printf(why, "bad queue file name: %s/%s", queue_name, id);
        strbuf_free(path);
        return NULL;
    }
    queue_path(path, queue_name, id);
    fd = open(path->data, flags | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        strbuf_printf(why, "open %s: %s", path->data, strerror(errno));
        strbuf_free(path);
        return NULL;
    }
    strbuf_free(path);
    return queue_file_new(queue_name, id, fd);
}

int queue_file_close(queue_file *qf)
{
    int     rc = stream_close(qf->stream);

    queue_file_free(qf);
    return rc;
}

int queue_file_move(const char *from_queue, const char *id, const char *to_queue, strbuf *why)
{
    strbuf *from = strbuf_new(64);
    strbuf *to = strbuf_new(64);
    int     rc;

    queue_path(from, from_queue, id);
    queue_path(to, to_queue, id);
    rc = rename(from->data, to->data);
    if (rc < 0 && errno == ENOENT && make_parents(to) == 0)
        rc = rename(from->data, to->data);
    if (rc < 0)
        strbuf_printf(why, "rename %s to %s: %s", from->data, to->data, strerror(errno));
    strbuf_free(from);
    strbuf_free(to);
    return rc;
}

int queue_file_remove(const char *queue_name, const char *id)
{
    strbuf *path = strbuf_new(64);
    int     rc;

    queue_path(path, queue_name, id);
    rc = unlink(path->data);
    strbuf_free(path);
    return rc;
}

int queue_file_is_complete(const struct stat *st)
{
    return (st->st_mode & S_IXUSR) != 0;
}

int queue_put_sizes(stream *s, const queue_sizes *sizes)
{
    char    text[QUEUE_SIZES_LEN + 1];
    int     len = snprintf(text, sizeof(text), "%15ld %15ld %15ld %15ld %15ld %15ld",
                           sizes->message_size, sizes->content_offset,
                           sizes->extracted_offset, sizes->recipient_count,
                           sizes->flags, sizes->body_offset);

    if (len != QUEUE_SIZES_LEN) {
        errno = ERANGE;
        return -1;
    }
    return rec_put(s, REC_TYPE_VERSION, text, QUEUE_SIZES_LEN);
}

int queue_parse_sizes(const strbuf *data, queue_sizes *sizes)
{
    long    values[6];
    const char *cp = data->data;

    if (data->len != QUEUE_SIZES_LEN)
        return -1;
    for (int i = 0; i < 6; i++) {
        const char *field = cp + i * 16;
        long    value = 0;
        int     digits = 0;

        if (i > 0 && field[-1] != ' ')
            return -1;
        for (int j = 0; j < 15; j++) {
            if (field[j] == ' ' && digits == 0)
                continue;
            if (!isdigit((unsigned char) field[j]) || value > (LONG_MAX - 9) / 10)
                return -1;
            value = value * 10 + (field[j] - '0');
            digits++;
        }
        if (digits == 0)
            return -1;
        values[i] = value;
    }
    sizes->message_size = values[0];
    sizes->content_offset = values[1];
    sizes->extracted_offset = values[2];
    sizes->recipient_count = values[3];
    sizes->flags = values[4];
    sizes->body_offset = values[5];
    return 0;
}

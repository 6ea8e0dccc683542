/*
 * queue_file - queue names, queue IDs, and creating, committing, opening,
 * moving and removing queue files (docs/queue-file.md).
 *
 * All paths are relative to queue_directory: every program that touches the
 * queue first changes its working directory there (daemons in a chroot are
 * already in it).
 *
 * queue_file_create() makes a new file in a queue under its final queue ID
 * (mode 0600, "incomplete"); the caller writes records through qf->stream,
 * then queue_file_commit() flushes, marks the file complete (mode 0700),
 * fsyncs the file and its directory. queue_file_commit_as() does the same
 * but first moves the file into another queue (cleanup's HOLD: the file
 * never appears complete in incoming/) and sets `mode` as the complete
 * mark (postdrop's maildrop files are 0744 so pickup can read them; the
 * owner execute bit is the mark everywhere). A directory the writer may
 * not read (maildrop/, 0730, for postdrop) is not fsync'd: the file is.
 * queue_file_abort() removes the file. All three free the queue_file.
 * queue_file_open() opens an existing file.
 * Functions returning int give 0 or -1 with a reason in `why`.
 *
 * The V record: queue_put_sizes() writes it (fixed width, so it can be
 * written first and rewritten in place); queue_parse_sizes() checks one.
 */
#ifndef POSTERN_QUEUE_FILE_H
#define POSTERN_QUEUE_FILE_H

#include <sys/stat.h>
#include <sys/types.h>

#include "stream.h"
#include "strbuf.h"

#define QUEUE_MAILDROP  "maildrop"
#define QUEUE_INCOMING  "incoming"
#define QUEUE_ACTIVE    "active"
#define QUEUE_DEFERRED  "deferred"
#define QUEUE_HOLD      "hold"
#define QUEUE_CORRUPT   "corrupt"
#define QUEUE_BOUNCE    "bounce"
#define QUEUE_DEFER     "defer"
#define QUEUE_TRACE     "trace"
#define QUEUE_SAVED     "saved"

#define QUEUE_ID_MAX        32
#define QUEUE_MODE_WRITING  0600        /* being written: qmgr ignores it */
#define QUEUE_MODE_COMPLETE 0700        /* committed */
#define QUEUE_SIZES_LEN     95          /* data length of the V record */

/* Flags in the V record. */
#define QUEUE_FLAG_LOCAL_SUBMIT  (1 << 0)       /* arrived through sendmail/pickup */
#define QUEUE_FLAG_DSN           (1 << 1)       /* is a delivery status notification */
#define QUEUE_FLAG_8BIT          (1 << 2)       /* content has 8-bit bytes */

typedef struct queue_sizes {
    long    message_size;
    long    content_offset;
    long    extracted_offset;
    long    recipient_count;
    long    flags;
    long    body_offset;
} queue_sizes;

typedef struct queue_file {
    stream *stream;
    char    queue_name[16];
    char    id[QUEUE_ID_MAX + 1];
    strbuf *path;
} queue_file;

int     queue_id_valid(const char *id);
int     queue_name_valid(const char *queue_name);
void    queue_path(strbuf *path, const char *queue_name, const char *id);
queue_file *queue_file_create(const char *queue_name, strbuf *why);
int     queue_file_commit(queue_file *qf, strbuf *why);
int     queue_file_commit_as(queue_file *qf, const char *queue_name, mode_t mode,
                             strbuf *why);
void    queue_file_abort(queue_file *qf);
queue_file *queue_file_open(const char *queue_name, const char *id, int flags, strbuf *why);
int     queue_file_close(queue_file *qf);
int     queue_file_move(const char *from_queue, const char *id, const char *to_queue,
                        strbuf *why);
int     queue_file_remove(const char *queue_name, const char *id);
int     queue_file_is_complete(const struct stat *st);

int     queue_put_sizes(stream *s, const queue_sizes *sizes);
int     queue_parse_sizes(const strbuf *data, queue_sizes *sizes);

#endif

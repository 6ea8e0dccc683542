/*
 * cleanup_clnt - hand a message to cleanup (docs/protocols.md, "cleanup").
 *
 *   cleanup_clnt *cl = cleanup_clnt_open(CLEANUP_FLAG_FILTER, why);
 *   ... rec_put(cl->stream, ...) the records, from A/S/R to E ...
 *   status = cleanup_clnt_close(cl, reason);   0: the message is queued
 *
 * cleanup_clnt_open() connects to public/cleanup, sends the flags and reads
 * the queue ID (cl->queue_id); NULL with a reason in `why` when cleanup is
 * unreachable or cannot create a queue file. cleanup_clnt_close() flushes,
 * reads cleanup's verdict and frees the client: CLEANUP_STAT_* bits (0 =
 * committed to disk; only then may the caller say "queued"), with cleanup's
 * "D.D.D text" in `reason` when it gave one; a lost connection counts as
 * CLEANUP_STAT_WRITE. cleanup_clnt_abort() drops the connection without an
 * end record, so cleanup discards the file.
 *
 * cleanup_stat_detail() gives the DSN status and the text Postfix uses for
 * the most important bit of a status ("4.3.0", "queue file write error").
 */
#ifndef POSTERN_CLEANUP_CLNT_H
#define POSTERN_CLEANUP_CLNT_H

#include "queue_file.h"
#include "stream.h"
#include "strbuf.h"

#define CLEANUP_FLAG_BOUNCE   (1 << 0)
#define CLEANUP_FLAG_FILTER   (1 << 1)
#define CLEANUP_FLAG_HOLD     (1 << 2)
#define CLEANUP_FLAG_DISCARD  (1 << 3)
#define CLEANUP_FLAG_MAP_OK   (1 << 4)
#define CLEANUP_FLAG_EXTRACT  (1 << 5)
#define CLEANUP_FLAG_LOCAL    (1 << 6)

#define CLEANUP_STAT_OK       0
#define CLEANUP_STAT_BAD      (1 << 0)
#define CLEANUP_STAT_WRITE    (1 << 1)
#define CLEANUP_STAT_SIZE     (1 << 2)
#define CLEANUP_STAT_CONT     (1 << 3)
#define CLEANUP_STAT_HOPS     (1 << 4)
#define CLEANUP_STAT_RCPT     (1 << 5)
#define CLEANUP_STAT_DEFER    (1 << 6)

#define CLEANUP_SERVICE       "cleanup"

typedef struct cleanup_clnt {
    stream *stream;
    char    queue_id[QUEUE_ID_MAX + 1];
} cleanup_clnt;

cleanup_clnt *cleanup_clnt_open(int flags, strbuf *why);
int     cleanup_clnt_close(cleanup_clnt *cl, strbuf *reason);
void    cleanup_clnt_abort(cleanup_clnt *cl);
void    cleanup_stat_detail(int status, const char **dsn, const char **text);

#endif

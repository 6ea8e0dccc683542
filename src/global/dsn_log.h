/*
 * dsn_log - per-message delivery status logs in defer/, bounce/, trace/.
 *
 * A delivery agent records each recipient outcome with dsn_log_append():
 * one frame of the attr framing, written with a single write(2) on an
 * O_APPEND descriptor, so agents delivering the same message at the same
 * time never interleave. Free text (reason, diagnostic) is bounded to
 * DSN_TEXT_MAX bytes and control characters become spaces, so a remote
 * server's reply cannot break a log, mailq output or a notification.
 *
 * dsn_log_read() returns every outcome in a log (oldest first) as a
 * dsn_outcome_list owned by the caller (dsn_outcome_list_free()); a damaged
 * frame ends the list (the part before it is kept) with a warning. A missing
 * log is an empty list. All paths are relative to queue_directory.
 */
#ifndef POSTERN_DSN_LOG_H
#define POSTERN_DSN_LOG_H

#include <stddef.h>

#include "strbuf.h"

#define DSN_TEXT_MAX  1000

typedef struct dsn_outcome {
    char   *recipient;
    char   *orig_rcpt;                  /* "" when none */
    char   *dsn_orcpt;                  /* "" when none */
    int     dsn_notify;
    long    offset;                     /* of the recipient record */
    char   *status;                     /* "5.1.1" */
    char   *action;                     /* failed, delayed, delivered, relayed, expanded */
    char   *reason;                     /* human-readable */
    char   *diag_type;                  /* "smtp" or "" */
    char   *diag_text;                  /* the remote reply or "" */
    char   *mta_type;                   /* "dns" or "" */
    char   *mta_name;                   /* the remote host or "" */
} dsn_outcome;

typedef struct dsn_outcome_list {
    dsn_outcome *items;
    size_t  count;
} dsn_outcome_list;

int     dsn_log_append(const char *log_queue, const char *queue_id, const dsn_outcome *outcome,
                       strbuf *why);
dsn_outcome_list *dsn_log_read(const char *log_queue, const char *queue_id);
void    dsn_outcome_list_free(dsn_outcome_list *list);
int     dsn_status_valid(const char *status);

#endif

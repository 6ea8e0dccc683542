/*
 * mail_copy - write a queued message to a mailbox, a file or a command, the
 * way local(8) and pipe(8) deliver it.
 *
 *   mail_copy_args args = {.sender = ..., .delivered_to = ..., .flags = ...};
 *   status = mail_copy(queue_stream, data_offset, out, &args, why);
 *
 * Reads the content records (L, C) from the queue file's M record at
 * `data_offset` and writes the message to `out`, each line ended with "\n"
 * (args.eol, when set, instead). Optional additions, by flag:
 *
 *   MAIL_COPY_FROM         a "From sender  date" line first (the null
 *                          sender as MAILER-DAEMON)
 *   MAIL_COPY_QUOTE        ">From " quoting of body lines
 *   MAIL_COPY_MBOX         all three of FROM, QUOTE and BLANK: mbox format
 *   MAIL_COPY_RETURN_PATH  "Return-Path: <sender>"
 *   MAIL_COPY_ORIG_RCPT    "X-Original-To: orig_rcpt" (when set)
 *   MAIL_COPY_DELIVERED    "Delivered-To: delivered_to"
 * (added in this order, after the From line, as Postfix does)
 *   MAIL_COPY_DOT          a line starting with '.' gets another '.'
 *   MAIL_COPY_BLANK        an empty line after the message
 *
 * Addresses go out in external form; control characters in them become
 * '?', so a queue file cannot add header lines. The output is flushed at
 * the end. Returns MAIL_COPY_OK, MAIL_COPY_READ_ERROR (the queue file is
 * damaged: defer) or MAIL_COPY_WRITE_ERROR (errno from the write, e.g.
 * EFBIG or ENOSPC), with a reason in `why`.
 *
 * mail_copy_has_delivered_to(qstream, data_offset, address) scans the
 * message headers for "Delivered-To: address" (case-insensitive): 1 found,
 * 0 not, -1 the queue file could not be read. Loop detection.
 */
#ifndef POSTERN_MAIL_COPY_H
#define POSTERN_MAIL_COPY_H

#include "stream.h"
#include "strbuf.h"

#define MAIL_COPY_FROM          (1 << 0)
#define MAIL_COPY_QUOTE         (1 << 1)
#define MAIL_COPY_RETURN_PATH   (1 << 2)
#define MAIL_COPY_DELIVERED     (1 << 3)
#define MAIL_COPY_ORIG_RCPT     (1 << 4)
#define MAIL_COPY_DOT           (1 << 5)
#define MAIL_COPY_BLANK         (1 << 6)
#define MAIL_COPY_MBOX          (MAIL_COPY_FROM | MAIL_COPY_QUOTE | MAIL_COPY_BLANK)

#define MAIL_COPY_OK            0
#define MAIL_COPY_READ_ERROR    (-1)
#define MAIL_COPY_WRITE_ERROR   (-2)

typedef struct mail_copy_args {
    const char *sender;                 /* envelope sender; "" is <> */
    const char *delivered_to;
    const char *orig_rcpt;              /* NULL or "": no X-Original-To */
    const char *eol;                    /* NULL: "\n" */
    int     flags;
} mail_copy_args;

int     mail_copy(stream *queue, long data_offset, stream *out, const mail_copy_args *args,
                  strbuf *why);
int     mail_copy_has_delivered_to(stream *queue, long data_offset, const char *address);

#endif

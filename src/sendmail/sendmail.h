/*
 * sendmail - the sendmail command's internal interface (src/sendmail only).
 *
 *   sendmail.c           options, modes (-bm, -bs, -bp, -bi, -q, ...), the
 *                        mailq and newaliases names
 *   sendmail_postdrop.c  one message handed to postdrop as maildrop records
 *                        (docs/queue-file.md, "Maildrop files")
 *   sendmail_message.c   -bm: the message on standard input ("." handling,
 *                        line endings, long lines, the -t recipient check)
 *   sendmail_smtp.c      -bs: a small SMTP dialogue on standard input and
 *                        output, each message through postdrop
 *
 * Errors: sendmail_fatal() prints "sendmail: fatal: USER(UID): text" and
 * exits with a sysexits.h status, as Postfix's sendmail does.
 */
#ifndef POSTERN_SENDMAIL_H
#define POSTERN_SENDMAIL_H

#include <sys/types.h>

#include "argv.h"
#include "stream.h"
#include "strbuf.h"

typedef struct sendmail_submission {
    const char *sender;                 /* internal form; "" is the null sender */
    const char *fullname;               /* NULL when unknown */
    argv_t *recipients;                 /* internal form */
    int    *notify;                     /* per recipient, or NULL: dsn_notify for all */
    int     extract;                    /* -t */
    int     dsn_notify;                 /* -N, 0 when not given */
    int     dsn_ret;                    /* -R, 0 when not given */
    const char *dsn_envid;              /* -V, NULL when not given */
    const char *encoding;               /* -B: "7bit", "8bitmime" or NULL */
} sendmail_submission;

typedef struct postdrop_pipe {
    pid_t   pid;
    stream *to;                         /* postdrop's standard input */
    int     from;                       /* postdrop's standard output */
    long    content_bytes;
} postdrop_pipe;

extern const char *sendmail_config_dir;        /* -C, or NULL */

void    sendmail_fatal(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* sendmail_postdrop.c */
void    postdrop_start(postdrop_pipe *p, const sendmail_submission *sub);
void    postdrop_content(postdrop_pipe *p, int type, const char *data, size_t len);
int     postdrop_finish(postdrop_pipe *p, strbuf *queue_id);
void    postdrop_abort(postdrop_pipe *p);

/* sendmail_message.c */
void    sendmail_read_message(postdrop_pipe *p, int ignore_dots, int check_extract);

/* sendmail_smtp.c */
int     sendmail_smtp(const char *fullname);

#endif

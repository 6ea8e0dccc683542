/*
 * smtp_args - the whole argument of MAIL FROM: and RCPT TO: the path, the
 * ESMTP parameters, and the Postfix reply for each way they can be wrong.
 *
 * smtp_args_parse(args, kind, text, len, flags) takes the text after
 * "MAIL FROM:" or "RCPT TO:" (the caller matched those words, case-
 * insensitively, and removed the CRLF) and returns an smtp_args_status. It
 * stops at the first problem, in the order Postfix checks: the path (see
 * smtp_path.h), then each parameter left to right, then SMTPUTF8.
 * smtp_args_reply(out, args) appends the reply Postfix sends for that status
 * (without CRLF); args->why holds a static text for the log.
 *
 * Parameters (RFC 5321 section 4.1.2): SP-separated (HTAB tolerated)
 * esmtp-keyword ["=" esmtp-value]; keyword (ALPHA / DIGIT) *(ALPHA / DIGIT /
 * "-"), matched case-insensitively; value 1*(%d33-60 / %d62-126), plus
 * UTF-8 in RCPT parameters of an SMTPUTF8 transaction (RFC 6531). A CR, LF,
 * NUL or other control character in a parameter is a syntax error of that
 * parameter. esmtp_param_next() is the splitter alone.
 *
 *   MAIL  SIZE=digits        501 5.5.4 Bad message size syntax; a value over
 *                            LONG_MAX: 552 5.3.4 Message size exceeds file
 *                            system imposed limit
 *         BODY=7BIT|8BITMIME other values: 555 5.5.4 Unsupported option
 *         RET=FULL|HDRS      501 5.5.4 Bad RET parameter syntax (also twice)
 *         ENVID=xtext        501 5.5.4 Bad ENVID parameter syntax (also
 *                            twice); decoded 1-100 graphic ASCII characters
 *         AUTH=xtext|<>      501 5.5.4 Bad AUTH parameter syntax; decoded
 *                            printable ASCII; twice: 503 5.5.4 Error:
 *                            multiple AUTH= options
 *         SMTPUTF8           no value allowed
 *         XVERP[=value]      value not checked here (verp_delimiter_filter)
 *   RCPT  NOTIFY=NEVER or a comma list of SUCCESS, FAILURE, DELAY
 *                            501 5.5.4 Error: Bad NOTIFY parameter syntax
 *         ORCPT=rfc822;xtext or utf-8;... (see xtext.h)
 *                            501 5.5.4 Error: Bad ORCPT parameter syntax
 *
 * Which extensions are on comes from flags: SMTP_ARGS_DSN (RET, ENVID,
 * NOTIFY, ORCPT; without it "501 5.7.1 DSN support is disabled"),
 * SMTP_ARGS_AUTH, SMTP_ARGS_SMTPUTF8, SMTP_ARGS_XVERP (without them the
 * keyword is unknown). Any other keyword, or one of the wrong command:
 * "555 5.5.4 Unsupported option: TEXT" (TEXT sanitized). SMTP_ARGS_STRICT
 * is strict_rfc821_envelopes. A non-ASCII address needs SMTPUTF8 in this
 * MAIL command, or for RCPT the flag SMTP_ARGS_UTF8_SESSION: else "553 5.6.7
 * Must declare SMTPUTF8 to send unicode address".
 *
 * Memory: smtp_args_new() allocates the result, which owns its path and
 * strbufs; smtp_args_parse() resets them each time; smtp_args_free() frees
 * everything. Nothing here logs.
 */
#ifndef POSTERN_SMTP_ARGS_H
#define POSTERN_SMTP_ARGS_H

#include <stddef.h>

#include "dsn.h"
#include "smtp_path.h"
#include "strbuf.h"

enum smtp_args_kind { SMTP_ARGS_MAIL, SMTP_ARGS_RCPT };

#define SMTP_ARGS_STRICT        (1 << 0)
#define SMTP_ARGS_DSN           (1 << 1)
#define SMTP_ARGS_AUTH          (1 << 2)
#define SMTP_ARGS_SMTPUTF8      (1 << 3)
#define SMTP_ARGS_XVERP         (1 << 4)
#define SMTP_ARGS_UTF8_SESSION  (1 << 5)

enum smtp_args_status {
    SMTP_ARGS_OK,
    SMTP_ARGS_ERR_EMPTY,                /* 501 5.5.4 Syntax: MAIL FROM:<address> */
    SMTP_ARGS_ERR_ADDRESS,              /* 501 5.1.7 / 5.1.3 Bad ... address syntax */
    SMTP_ARGS_ERR_UNSUPPORTED,          /* 555 5.5.4 Unsupported option: %s */
    SMTP_ARGS_ERR_DSN_DISABLED,         /* 501 5.7.1 DSN support is disabled */
    SMTP_ARGS_ERR_SIZE,                 /* 501 5.5.4 Bad message size syntax */
    SMTP_ARGS_ERR_SIZE_OVERFLOW,        /* 552 5.3.4 Message size exceeds ... */
    SMTP_ARGS_ERR_RET,                  /* 501 5.5.4 Bad RET parameter syntax */
    SMTP_ARGS_ERR_ENVID,                /* 501 5.5.4 Bad ENVID parameter syntax */
    SMTP_ARGS_ERR_AUTH,                 /* 501 5.5.4 Bad AUTH parameter syntax */
    SMTP_ARGS_ERR_AUTH_TWICE,           /* 503 5.5.4 Error: multiple AUTH= options */
    SMTP_ARGS_ERR_NOTIFY,               /* 501 5.5.4 Error: Bad NOTIFY parameter syntax */
    SMTP_ARGS_ERR_ORCPT,                /* 501 5.5.4 Error: Bad ORCPT parameter syntax */
    SMTP_ARGS_ERR_UTF8_UNDECLARED,      /* 553 5.6.7 Must declare SMTPUTF8 ... */
};

/* Which parameters were given (smtp_args.params). */
#define SMTP_PARAM_SIZE      (1 << 0)
#define SMTP_PARAM_BODY      (1 << 1)
#define SMTP_PARAM_RET       (1 << 2)
#define SMTP_PARAM_ENVID     (1 << 3)
#define SMTP_PARAM_AUTH      (1 << 4)
#define SMTP_PARAM_SMTPUTF8  (1 << 5)
#define SMTP_PARAM_XVERP     (1 << 6)
#define SMTP_PARAM_NOTIFY    (1 << 7)
#define SMTP_PARAM_ORCPT     (1 << 8)

/* BODY= values; RET= and NOTIFY= use DSN_RET_* and DSN_NOTIFY_* (dsn.h). */
#define SMTP_BODY_7BIT       1
#define SMTP_BODY_8BITMIME   2

#define SMTP_ENVID_MAX_LENGTH 100

typedef struct smtp_args {
    int     kind;                       /* SMTP_ARGS_MAIL or SMTP_ARGS_RCPT */
    int     status;                     /* the last smtp_args_parse() result */
    const char *why;                    /* static text for the log, or NULL */
    smtp_path *path;
    int     params;                     /* SMTP_PARAM_* given */
    long    size;
    int     body;
    int     ret;
    int     notify;
    strbuf *envid;                      /* decoded */
    strbuf *auth;                       /* decoded; "" for AUTH=<> */
    strbuf *xverp;                      /* as sent; "" for a bare XVERP */
    strbuf *orcpt_type;                 /* "rfc822" or "utf-8" */
    strbuf *orcpt;                      /* decoded */
    strbuf *bad_param;                  /* the parameter a failure is about */
} smtp_args;

typedef struct esmtp_param {
    const char *text;                   /* the whole parameter */
    size_t  text_len;
    size_t  keyword_len;                /* keyword is text[0, keyword_len) */
    const char *value;                  /* NULL when there is no '=' */
    size_t  value_len;
} esmtp_param;

/* esmtp_param_next() flags */
#define ESMTP_PARAM_UTF8     (1 << 0)   /* UTF-8 allowed in values */

smtp_args *smtp_args_new(void);
void    smtp_args_free(smtp_args *args);
int     smtp_args_parse(smtp_args *args, int kind, const char *text, size_t len, int flags);
void    smtp_args_reply(strbuf *out, const smtp_args *args);

/*
 * Splits the next parameter at text[*pos]: 1 and *param filled, 0 at the
 * end, -1 when the parameter is malformed (*param still spans its text).
 */
int     esmtp_param_next(const char *text, size_t len, size_t *pos, int flags,
                         esmtp_param *param);
int     esmtp_keyword_valid(const char *keyword, size_t len);
int     esmtp_value_valid(const char *value, size_t len, int flags);

#endif

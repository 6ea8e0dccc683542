/*
 * maildrop - the records of a maildrop file (docs/queue-file.md,
 * "Maildrop files"): what sendmail sends to postdrop, what postdrop writes
 * into maildrop/ and what pickup accepts from there.
 *
 *   T A* S F? (N? R)* M (L|C)* X E          maildrop file (postdrop adds T)
 *     A* S F? (N? R)* M (L|C)* X E          postdrop's input (from sendmail)
 *
 * A maildrop file is written by a local user through postdrop, so nothing
 * in it is trusted. maildrop_check_init(&check, flags) starts a check;
 * maildrop_check_record(&check, type, data, why) takes each record in
 * turn and returns 0 when it is allowed at this point, -1 with the reason
 * in `why` when it is not; maildrop_check_end(&check, why) says whether
 * the records ended at a complete file. With MAILDROP_INPUT the check
 * starts after T (postdrop's input from sendmail).
 *
 * Rules: T is "SECONDS.MICROSECONDS"; attributes are only those below, at
 * most once each, with valid values; S once (empty: the null sender); F at
 * most once; N applies to the next R; addresses and the full name hold no
 * control characters and are at most MAILDROP_ADDRESS_MAX and
 * MAILDROP_FULLNAME_MAX bytes; R is not empty; M needs recipients or
 * extract_recipients; content is L and C records (binary-safe); after X
 * only E; nothing after E.
 *
 *   dsn_envid            sendmail -V: 1-100 printable ASCII, no space
 *   dsn_ret              sendmail -R: 1 (full) or 2 (headers)
 *   dsn_notify           sendmail -N, for recipients cleanup extracts (-t)
 *   encoding             sendmail -B: 7bit or 8bitmime
 *   extract_recipients   sendmail -t: 1
 *
 * The check keeps what pickup needs in `check`: the sender, whether
 * recipients are to be extracted, the recipient count, the arrival time.
 * maildrop_check_free() releases it.
 */
#ifndef POSTERN_MAILDROP_H
#define POSTERN_MAILDROP_H

#include <sys/time.h>

#include "strbuf.h"

#define MAILDROP_INPUT          (1 << 0)   /* postdrop's input: no T record */

#define MAILDROP_ADDRESS_MAX    4096
#define MAILDROP_FULLNAME_MAX   1024
#define MAILDROP_ENVID_MAX      100

#define MAILDROP_ATTR_ENVID     "dsn_envid"
#define MAILDROP_ATTR_RET       "dsn_ret"
#define MAILDROP_ATTR_NOTIFY    "dsn_notify"
#define MAILDROP_ATTR_ENCODING  "encoding"
#define MAILDROP_ATTR_EXTRACT   "extract_recipients"

enum maildrop_stage {
    MAILDROP_STAGE_TIME, MAILDROP_STAGE_ATTR, MAILDROP_STAGE_RCPT, MAILDROP_STAGE_CONTENT,
    MAILDROP_STAGE_EXTRACTED, MAILDROP_STAGE_DONE,
};

typedef struct maildrop_check {
    enum maildrop_stage stage;
    int     attrs_seen;                 /* bit per attribute name */
    int     have_fullname;
    int     pending_notify;             /* an N waits for its R */
    int     extract;                    /* extract_recipients=1 */
    long    recipients;
    struct timeval arrival;
    strbuf *sender;
} maildrop_check;

void    maildrop_check_init(maildrop_check *check, int flags);
int     maildrop_check_record(maildrop_check *check, int type, const strbuf *data, strbuf *why);
int     maildrop_check_end(const maildrop_check *check, strbuf *why);
void    maildrop_check_free(maildrop_check *check);

int     maildrop_notify_valid(const char *text, int *flags);

#endif

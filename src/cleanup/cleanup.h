/*
 * cleanup - the cleanup daemon's internal interface (src/cleanup only).
 *
 * One message per connection (docs/protocols.md, "cleanup"; docs/cleanup.md):
 *
 *   cleanup_session(client)      the whole conversation: flags, queue ID,
 *                                records, verdict (cleanup_service.c)
 *
 * A session keeps a cleanup_state. Its parts, in the order a message
 * passes them:
 *
 *   cleanup_envelope.c   envelope records: arrival time, attributes,
 *                        sender, full name, recipient groups; recipients
 *                        of the extracted section
 *   cleanup_addr.c       address rewriting: trivial-rewrite, canonical
 *                        maps, masquerading, virtual alias expansion,
 *                        automatic BCC lookups
 *   cleanup_message.c    content: header assembly, header processing,
 *                        missing headers, MIME structure, body lines
 *   cleanup_checks.c     header_checks, mime_header_checks,
 *                        nested_header_checks, body_checks
 *   cleanup_out.c        writing records and the V record
 *   cleanup_final.c      commit (incoming/ or hold/), discard, bounce of
 *                        local mail, the reply
 *
 * Process-wide settings and tables (cleanup_init.c) are opened once, as
 * root before the chroot (cleanup_tables_open). The two services cleanup
 * calls, trivial-rewrite's rewrite and resolve, go through cleanup_svc so
 * unit tests can replace them.
 *
 * Errors: a message's problems accumulate in state->errs (CLEANUP_STAT_*
 * bits) with the first reason in state->reason; the session always reads
 * the client's records to the end record before it answers, so the client
 * stays in step. Nothing from the client or a table is trusted.
 */
#ifndef POSTERN_CLEANUP_H
#define POSTERN_CLEANUP_H

#include <sys/time.h>
#include <sys/types.h>

#include "argv.h"
#include "cleanup_clnt.h"
#include "header_info.h"
#include "htable.h"
#include "maps.h"
#include "match_list.h"
#include "queue_file.h"
#include "rewrite_clnt.h"
#include "stream.h"
#include "strbuf.h"

/* Address classes (canonical_classes, masquerade_classes, ...). */
#define CLEANUP_CLASS_ENV_FROM  (1 << 0)
#define CLEANUP_CLASS_ENV_RCPT  (1 << 1)
#define CLEANUP_CLASS_HDR_FROM  (1 << 2)
#define CLEANUP_CLASS_HDR_RCPT  (1 << 3)

/* Limits of our own. */
#define CLEANUP_ATTR_MAX        100     /* attributes a client may send */
#define CLEANUP_ATTR_LEN_MAX    4096    /* bytes of one attribute or address */
#define CLEANUP_MAP11_LIMIT     10      /* canonical map iterations, as Postfix */
#define CLEANUP_LOG_TEXT_MAX    200     /* header or body text in a log line */

typedef struct cleanup_tables {
    maps_t *canonical;
    maps_t *sender_canonical;
    maps_t *recipient_canonical;
    maps_t *virtual_alias;
    maps_t *sender_bcc;
    maps_t *recipient_bcc;
    maps_t *header_checks;
    maps_t *mime_header_checks;
    maps_t *nested_header_checks;
    maps_t *body_checks;
    match_list *masq_exceptions;
    argv_t *masq_domains;
    argv_t *drop_headers;
    int     canonical_classes;
    int     sender_canonical_classes;
    int     recipient_canonical_classes;
    int     masq_classes;
    int     propagate_canonical;
    int     propagate_virtual;
} cleanup_tables;

typedef struct cleanup_services {
    int     (*rewrite)(const char *rule, const char *address, strbuf *result);
    int     (*resolve)(const char *sender, const char *address, resolve_reply *reply);
} cleanup_services;

extern cleanup_tables cleanup_tab;
extern cleanup_services cleanup_svc;

/* A recipient as written to the queue file (for bounces and logs). */
typedef struct cleanup_rcpt {
    char   *address;
    char   *orig_rcpt;
    char   *dsn_orcpt;
    int     dsn_notify;
    long    offset;
} cleanup_rcpt;

/* The recipient group a client is sending: O? Q? N? before R. */
typedef struct cleanup_pending {
    strbuf *orig_rcpt;
    strbuf *dsn_orcpt;
    int     have_orig;
    int     have_orcpt;
    int     dsn_notify;
} cleanup_pending;

enum cleanup_stage {
    CLEANUP_STAGE_TIME, CLEANUP_STAGE_ATTR, CLEANUP_STAGE_RCPT, CLEANUP_STAGE_CONTENT,
    CLEANUP_STAGE_EXTRACTED, CLEANUP_STAGE_DONE,
};

enum cleanup_header_class { CLEANUP_HDR_PRIMARY, CLEANUP_HDR_MULTIPART, CLEANUP_HDR_NESTED };

typedef struct cleanup_content cleanup_content;

typedef struct cleanup_state {
    int     flags;                      /* CLEANUP_FLAG_* from the client */
    int     errs;                       /* CLEANUP_STAT_* */
    strbuf *reason;                     /* "D.D.D text" of the first error */
    queue_file *qf;
    const char *queue_id;
    enum cleanup_stage stage;
    int     started;                    /* V, T, W written */
    struct timeval arrival;
    /* envelope */
    htable *attrs;                      /* client attributes: name -> char * */
    int     attr_count;
    strbuf *sender;                     /* rewritten; "" is the null sender */
    strbuf *log_sender;                 /* as logged: from=<...> */
    strbuf *fullname;
    int     have_fullname;
    const char *hdr_context;            /* REWRITE_LOCAL/REMOTE, NULL: headers left alone */
    int     extract_notify;             /* DSN NOTIFY for extracted recipients */
    cleanup_pending pending;
    cleanup_rcpt *rcpts;
    size_t  rcpt_count;
    size_t  rcpt_cap;
    htable *dups;                       /* duplicate filter */
    strbuf *first_rcpt;                 /* for log lines: to=<...> */
    argv_t *bcc_lookups;                /* recipient_bcc_maps results */
    htable *canonical;                  /* "rule\taddress" -> canonical form, this message */
    strbuf *resolved_address;           /* the last address resolved ... */
    int     resolved_local;             /* ... and whether its domain is ours */
    int     adding_bcc;                 /* BCC recipients trigger no BCC lookups */
    /* content */
    cleanup_content *content;
    long    input_bytes;                /* for message_size_limit */
    queue_sizes sizes;                  /* as written so far */
    int     eight_bit;
    /* what the checks decided */
    int     hold;
    int     discard;
    int     pass;                       /* PASS: no more checks */
    strbuf *redirect;
    strbuf *filter;
    argv_t *check_bcc;                  /* BCC actions */
    argv_t *extracted;                  /* sendmail -t: To, Cc, Bcc */
    argv_t *extracted_resent;           /* Resent-To, Resent-Cc, Resent-Bcc */
    int     resent;                     /* a Resent- header was seen */
    long    headers_seen;               /* bit per enum header_id */
    int     hop_count;
    strbuf *temp;
} cleanup_state;

/* cleanup_init.c */
void    cleanup_tables_open(void);
void    cleanup_tables_close(void);
int     cleanup_parse_classes(const char *param, const char *value);

/* cleanup_state.c */
cleanup_state *cleanup_state_new(int flags);
void    cleanup_state_free(cleanup_state *state);
void    cleanup_error(cleanup_state *state, int status, const char *reason_fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *cleanup_attr(const cleanup_state *state, const char *name);
int     cleanup_output_ok(const cleanup_state *state);

/* cleanup_envelope.c */
int     cleanup_envelope_record(cleanup_state *state, int type, const strbuf *data);
int     cleanup_extracted_record(cleanup_state *state, int type, const strbuf *data);
void    cleanup_add_recipient(cleanup_state *state, const char *address, const char *orig,
                              const char *dsn_orcpt, int dsn_notify);
void    cleanup_write_extracted(cleanup_state *state);
void    cleanup_write_auto_bcc(cleanup_state *state);

/* cleanup_addr.c */
int     cleanup_rewrite_sender(cleanup_state *state, const char *address, strbuf *result);
int     cleanup_rewrite_recipient(cleanup_state *state, const char *address, strbuf *result);
void    cleanup_rewrite_header_address(cleanup_state *state, int hdr_flags, strbuf *address);
int     cleanup_virtual_expand(cleanup_state *state, const char *address, argv_t *result);
int     cleanup_bcc_lookup(cleanup_state *state, maps_t *maps, const char *title,
                           const char *address, argv_t *result);
int     cleanup_masquerade(strbuf *address);

/* cleanup_message.c */
cleanup_content *cleanup_content_new(void);
void    cleanup_content_free(cleanup_content *content);
void    cleanup_content_record(cleanup_state *state, int type, const strbuf *data);
void    cleanup_content_end(cleanup_state *state);

/* cleanup_checks.c */
enum cleanup_check_verdict { CLEANUP_CHECK_KEEP, CLEANUP_CHECK_DELETE };
enum cleanup_check_verdict cleanup_check_header(cleanup_state *state,
                                                enum cleanup_header_class header_class,
                                                int mime_header, strbuf *header);
enum cleanup_check_verdict cleanup_check_body(cleanup_state *state, int line_start,
                                              strbuf *line);
void    cleanup_log_action(cleanup_state *state, const char *action, const char *what,
                           const char *text, size_t len, const char *extra);

/* cleanup_out.c */
void    cleanup_out_start(cleanup_state *state);
void    cleanup_out_record(cleanup_state *state, int type, const void *data, size_t len);
void    cleanup_out_content(cleanup_state *state, int type, const void *data, size_t len);
void    cleanup_out_text(cleanup_state *state, const char *text, size_t len);
off_t   cleanup_out_offset(const cleanup_state *state);
int     cleanup_out_sizes(cleanup_state *state);

/* cleanup_final.c */
void    cleanup_finish(cleanup_state *state);

/* cleanup_service.c */
void    cleanup_session(stream *client);

#endif

/*
 * smtp - private interface between the modules of smtp(8)/lmtp(8).
 *
 * One program serves master.cf's smtp, relay and lmtp services; it runs
 * in LMTP mode when installed as "lmtp" (smtp_config.lmtp), with the
 * lmtp_* parameters instead of smtp_*.
 *
 *   smtp.c          main(), configuration, one delivery request
 *   smtp_addr.c     next-hop syntax, MX and address lookups: the servers to try
 *   smtp_session.c  connect, greeting, EHLO/LHLO, features, the connection
 *                   cache (one idle session per process), QUIT
 *   smtp_trans.c    one mail transaction: MAIL, RCPT, DATA (pipelined when
 *                   offered), per-recipient outcomes
 *   smtp_content.c  the message on the wire: CRLF, dot-stuffing, long line
 *                   breaking, smtp_header_checks, smtp_generic_maps
 *   smtp_tls.c      the TLS security level per destination
 *                   (smtp_tls_policy_maps), the STARTTLS decision, starting
 *                   and ending TLS on a session
 *   smtp_sasl.c     SMTP AUTH: credentials (smtp_sasl_password_maps) and the
 *                   PLAIN/LOGIN conversation
 *
 * A session is opened in this order: connect, greeting, EHLO, STARTTLS and
 * EHLO again (as the level says), AUTH (when enabled and credentials exist),
 * then transactions. Every reply goes through smtp_reply (bounded,
 * sanitized) before any of its text reaches a log line or a status log.
 *
 * Memory: sessions own their stream and strings; smtp_server lists own
 * their entries.
 */
#ifndef POSTERN_SMTP_H
#define POSTERN_SMTP_H

#include <sys/socket.h>
#include <time.h>

#include "argv.h"
#include "delivery.h"
#include "dns_route.h"
#include "maps.h"
#include "smtp_reply.h"
#include "stream.h"
#include "strbuf.h"
#include "tls.h"
#include "tls_policy.h"

#define SMTP_FEATURE_ESMTP       (1 << 0)
#define SMTP_FEATURE_PIPELINING  (1 << 1)
#define SMTP_FEATURE_SIZE        (1 << 2)
#define SMTP_FEATURE_8BITMIME    (1 << 3)
#define SMTP_FEATURE_DSN         (1 << 4)
#define SMTP_FEATURE_SMTPUTF8    (1 << 5)
#define SMTP_FEATURE_STARTTLS    (1 << 6)
#define SMTP_FEATURE_AUTH        (1 << 7)

typedef struct smtp_config {
    int     lmtp;
    const char *hello_verb;             /* "EHLO" or "LHLO" */
    char   *helo_name;
    int     host_lookup;                /* DNS_LOOKUP_* */
    int     families;                   /* DNS_FAMILY_* */
    char   *tcp_port;
    char   *fallback_relay;
    int     connect_timeout;
    int     helo_timeout;
    int     mail_timeout;
    int     rcpt_timeout;
    int     data_init_timeout;
    int     data_xfer_timeout;
    int     data_done_timeout;
    int     rset_timeout;
    int     quit_timeout;
    int     starttls_timeout;
    int     cache_time_limit;
    int     reuse_time_limit;
    int     reuse_count_limit;
    int     mx_address_limit;
    int     mx_session_limit;
    int     line_length_limit;
    int     skip_5xx_greeting;
    int     randomize_addresses;
    int     address_preference;         /* AF_INET, AF_INET6, or 0 for any */
    int     never_send_ehlo;
    argv_t *discard_keywords;
    maps_t *generic_maps;               /* NULL when not configured */
    maps_t *header_checks;              /* NULL when not configured */
} smtp_config;

extern smtp_config smtp_cfg;

/* A server to try: a name and one address (or a UNIX socket path). */
typedef struct smtp_server {
    char   *name;
    dns_addr addr;                      /* unused for a UNIX socket */
    char   *unix_path;                  /* LMTP unix:/path, else NULL */
    int     port;
} smtp_server;

typedef struct smtp_server_list {
    smtp_server *items;
    size_t  count;
} smtp_server_list;

/* Why a destination or server failed, for the recipients' outcome. */
typedef struct smtp_failure {
    char    dsn[SMTP_REPLY_DSN_MAX];
    strbuf *reason;
    strbuf *relay;                      /* server talked to before it failed, or "" */
    int     set;
} smtp_failure;

/* The TLS requirements for one destination (smtp_tls.c). */
typedef struct smtp_tls_plan {
    enum tls_level level;               /* in effect: none .. secure */
    tls_policy policy;                  /* the smtp_tls_policy_maps entry */
    int     have_policy;
    char   *nexthop;                    /* the next-hop domain, for name checks */
} smtp_tls_plan;

typedef struct smtp_session {
    stream *stream;
    char   *dest;                       /* next-hop this session serves (cache key) */
    char   *namaddr;                    /* "name[addr]:port", as logged */
    char   *host;                       /* "name[addr]", for "host X said" */
    char   *name;                       /* server name, for DSN Remote-MTA */
    int     features;
    long    size_limit;                 /* SIZE value; 0: none announced */
    time_t  created;
    time_t  last_used;
    int     uses;                       /* transactions on this connection */
    smtp_reply *reply;
    tls_session *tls;                   /* NULL: plaintext */
    tls_session_info tls_info;          /* valid while tls is set */
    strbuf *auth_mechanisms;            /* the EHLO AUTH list */
} smtp_session;

/* smtp_addr.c */
int     smtp_find_servers(const char *nexthop, smtp_server_list *list, smtp_failure *fail);
void    smtp_server_list_free(smtp_server_list *list);

/* smtp_session.c */
smtp_session *smtp_session_open(const char *dest, const smtp_server *server,
                                const smtp_tls_plan *tls, smtp_failure *fail, int *permanent);
smtp_session *smtp_session_cached(const char *dest);
void    smtp_session_release(smtp_session *session, int reusable);
void    smtp_session_close(smtp_session *session, int send_quit);
int     smtp_command(smtp_session *session, int timeout, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int     smtp_read_reply(smtp_session *session, int timeout);
void    smtp_lost(smtp_session *session, const char *when, smtp_failure *fail);

/* smtp_trans.c */
enum smtp_trans_result { SMTP_TRANS_DONE, SMTP_TRANS_BROKEN };
int     smtp_transaction(smtp_session *session, delivery *d, int *done, smtp_failure *fail,
                         int *reusable);

/* smtp_content.c */
int     smtp_send_content(smtp_session *session, delivery *d, strbuf *why);
void    smtp_generic_rewrite(strbuf *address);

/* smtp_tls.c */
void    smtp_tls_init(void);
int     smtp_tls_plan_find(const char *dest, smtp_tls_plan *plan, smtp_failure *fail);
void    smtp_tls_plan_free(smtp_tls_plan *plan);
enum tls_action smtp_tls_decide(const smtp_session *session, const smtp_tls_plan *plan,
                                smtp_failure *fail);
int     smtp_tls_start(smtp_session *session, const smtp_tls_plan *plan, smtp_failure *fail,
                       int *retry_plain);
int     smtp_tls_wrap(smtp_session *session, const smtp_tls_plan *plan, smtp_failure *fail);
void    smtp_tls_end(smtp_session *session, int graceful);

/* smtp_sasl.c */
void    smtp_sasl_init(void);
int     smtp_sasl_has_credentials(const smtp_session *session);
int     smtp_sasl_login(smtp_session *session, smtp_failure *fail);

/* helpers */
void    smtp_failure_set(smtp_failure *fail, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

/*
 * smtpd.h - the SMTP server's session state and the interfaces between
 * its modules (docs/smtpd.md has the big picture).
 *
 *   smtpd.c         main(), start-up (tables, lists), one session's life
 *   smtpd_io.c      reading command lines under smtpd_timeout deadlines
 *   smtpd_chat.c    replies, error counting, log lines, command statistics
 *   smtpd_cmd.c     the commands and their table
 *   smtpd_data.c    DATA and BDAT: content to cleanup, the Received: header
 *   smtpd_peer.c    the client's address and verified host name
 *   smtpd_check.c   restriction lists (smtpd_*_restrictions): evaluation, events
 *   smtpd_rules.c   the restrictions themselves
 *   smtpd_access.c  access tables and policy answers (check_*_access)
 *   smtpd_rcpt.c    recipient and relay decisions through trivial-rewrite
 *   smtpd_dnsbl.c   reject_rbl_*, reject_rhsbl_*, reject_unknown_*_domain
 *   smtpd_policy.c  check_policy_service requests
 *   smtpd_tls.c     STARTTLS, wrapper mode, client certificates, the TLS context
 *   smtpd_sasl.c    AUTH through Dovecot, the EHLO AUTH lines, AUTH= on MAIL
 *
 * Memory: the session (smtpd_state) owns everything it points to; it lives
 * for one connection. Tables and lists opened at start-up (smtpd_tables)
 * live for the process.
 */
#ifndef POSTERN_SMTPD_H
#define POSTERN_SMTPD_H

#include <stddef.h>
#include <time.h>

#include "argv.h"
#include "cleanup_clnt.h"
#include "maps.h"
#include "match_list.h"
#include "smtp_args.h"
#include "smtp_cmdline.h"
#include "stream.h"
#include "strbuf.h"
#include "tls.h"

/* Commands, in the order of the disconnect log line. */
enum smtpd_cmd_id {
    CMD_HELO, CMD_EHLO, CMD_STARTTLS, CMD_AUTH, CMD_MAIL, CMD_RCPT, CMD_DATA, CMD_BDAT,
    CMD_RSET, CMD_NOOP, CMD_VRFY, CMD_ETRN, CMD_QUIT, CMD_HELP, CMD_UNKNOWN, CMD_COUNT
};

/* Command results. */
#define SMTPD_OK        0               /* success */
#define SMTPD_ERROR     (-1)            /* an error reply; counts as an error */
#define SMTPD_FAILED    (-2)            /* a failure reply that is no error (452) */

/* Peer name status (smtpd_peer.c). */
enum smtpd_name_status { PEER_NAME_OK, PEER_NAME_TEMP, PEER_NAME_PERM, PEER_NAME_FORGED };

/* BDAT states. */
enum smtpd_bdat { BDAT_NONE, BDAT_ACTIVE, BDAT_FAILED };

typedef struct smtpd_recipient {
    char   *address;                    /* internal form */
    char   *orcpt;                      /* "type;xtext" for the Q record */
    int     notify;                     /* DSN_NOTIFY_*, 0 when not given */
} smtpd_recipient;

typedef struct smtpd_state {
    stream *client;
    int     bare_lf_mode;               /* SMTP_BARE_LF_* for this client */
    long long deadline_ms;              /* end of the current record's time (monotonic) */

    /* The client (smtpd_peer.c). */
    strbuf *addr;                       /* 192.0.2.1, 2001:db8::1 */
    strbuf *port;
    strbuf *rfc_addr;                   /* 192.0.2.1, IPv6:2001:db8::1 */
    strbuf *name;                       /* verified name, or "unknown" */
    strbuf *reverse_name;               /* PTR name, or "unknown" */
    strbuf *namaddr;                    /* name[addr] (or name[addr]:port) */
    strbuf *server_addr;
    strbuf *server_port;
    int     family;
    int     name_status;

    /* The session. */
    const char *where;                  /* for "... after CMD" log lines */
    const char *protocol;               /* SMTP or ESMTP (Received: adds S and A) */
    char   *helo_name;
    int     ill_pipelining;             /* improper pipelining seen */
    int     error_count;
    int     junk_commands;
    int     quit;
    char   *access_denied;              /* CONNECT reject (smtpd_delay_reject=no) */
    int     ok[CMD_COUNT];
    int     total[CMD_COUNT];
    strbuf *anvil_ident;
    int     anvil_connected;
    smtp_cmdline *cmd;
    strbuf *reply;                      /* scratch for reply text */

    /* The mail transaction. */
    char   *sender;                     /* internal form; NULL: no MAIL yet */
    smtp_args *mail_args;               /* the MAIL parameters */
    smtp_args *rcpt_args;               /* scratch for RCPT */
    smtpd_recipient *rcpts;             /* accepted, at most smtpd_recipient_limit */
    size_t  rcpt_count;
    size_t  rcpt_space;                 /* allocated entries */
    long    rcpt_overshoot;             /* RCPTs refused for the recipient limit */
    const char *log_recipient;          /* to=<...> in log lines, or NULL */
    int     cleanup_flags;              /* CLEANUP_FLAG_HOLD, _DISCARD from actions */
    strbuf *redirect;                   /* REDIRECT action, or empty */
    argv_t *bcc;                        /* BCC actions */
    argv_t *prepend;                    /* PREPEND actions: header lines */
    char   *instance;                   /* policy "instance": one per transaction */
    cleanup_clnt *cleanup;              /* open from DATA/BDAT to the end */
    int     bdat;                       /* BDAT_* */
    void   *content;                    /* the content machine (smtpd_data.c) */

    /* TLS (smtpd_tls.c). */
    tls_session *tls;                   /* NULL: plaintext */
    tls_session_info tls_info;          /* describes `tls` while it is set */

    /* SMTP AUTH (smtpd_sasl.c). */
    char   *sasl_method;                /* NULL: not authenticated */
    char   *sasl_username;
    char   *sasl_sender;                /* MAIL FROM ... AUTH=, or NULL */
} smtpd_state;

/* Tables and lists opened before the chroot (smtpd.c); NULL when not configured. */
typedef struct smtpd_tables {
    match_list *mynetworks;
    match_list *forbidden_commands;
    match_list *bare_lf_exclusions;
    match_list *event_limit_exceptions;
    maps_t *local_rcpt_maps;
    maps_t *relay_rcpt_maps;
    maps_t *virtual_alias_maps;
    maps_t *virtual_mailbox_maps;
    maps_t *canonical_maps;
    maps_t *rcpt_canonical_maps;
    maps_t *rbl_reply_maps;
    argv_t *discard_ehlo;
    maps_t *relay_clientcerts;
    maps_t *sender_login_maps;
    match_list *sasl_exceptions;
} smtpd_tables;

extern smtpd_tables smtpd_tables_in_use;

/* smtpd_chat.c */
void    smtpd_reply(smtpd_state *state, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void    smtpd_reply_flush(smtpd_state *state);
void    smtpd_log_whatsup(smtpd_state *state, const char *whatsup, const char *text);
void    smtpd_log_disconnect(smtpd_state *state);
const char *smtpd_queue_id(const smtpd_state *state);
const char *smtpd_command_name(int id);

/* smtpd_io.c */
int     smtpd_read_command(smtpd_state *state);
int     smtpd_read_line(smtpd_state *state, size_t limit, strbuf *line);
int     smtpd_input_pending(smtpd_state *state);
const char *smtpd_pending_text(smtpd_state *state);
void    smtpd_deadline_start(smtpd_state *state);
void    smtpd_io_init(smtpd_state *state);

/* smtpd.c */
void    smtpd_input_failed(smtpd_state *state);

/* smtpd_cmd.c */
void    smtpd_execute(smtpd_state *state);
int     smtpd_rate_exceeded(smtpd_state *state, const char *request, int limit,
                            const char *what);
void    smtpd_transaction_reset(smtpd_state *state);
int     smtpd_keyword_discarded(const char *keyword);

/* smtpd_data.c */
int     smtpd_data_cmd(smtpd_state *state);
int     smtpd_bdat_cmd(smtpd_state *state);
void    smtpd_data_abort(smtpd_state *state);

/* smtpd_tls.c */
void    smtpd_tls_pre_init(void);
int     smtpd_tls_enforced(void);
int     smtpd_tls_offered(const smtpd_state *state);
int     smtpd_starttls_cmd(smtpd_state *state);
int     smtpd_tls_wrapper_start(smtpd_state *state);
void    smtpd_tls_end(smtpd_state *state);
int     smtpd_tls_cert_permitted(smtpd_state *state, int any_trusted);

/* smtpd_sasl.c */
void    smtpd_sasl_pre_init(void);
void    smtpd_sasl_ehlo_lines(smtpd_state *state, argv_t *lines);
int     smtpd_auth_cmd(smtpd_state *state);
void    smtpd_sasl_reset(smtpd_state *state);
int     smtpd_sasl_enabled(void);

/* smtpd_peer.c */
void    smtpd_peer_init(smtpd_state *state);

/* smtpd_check.c: 0 accept; otherwise the reply is in state->reply */
int     smtpd_check_connect(smtpd_state *state);
int     smtpd_check_helo(smtpd_state *state);
int     smtpd_check_mail(smtpd_state *state);
int     smtpd_check_rcpt(smtpd_state *state, const char *recipient);
int     smtpd_check_data(smtpd_state *state);
int     smtpd_check_eod(smtpd_state *state);
int     smtpd_check_etrn(smtpd_state *state, const char *domain);
int     smtpd_check_vrfy(smtpd_state *state, const char *address);
void    smtpd_check_init(void);
int     smtpd_client_in_mynetworks(smtpd_state *state);
int     smtpd_rewrite_context_local(smtpd_state *state);

#endif

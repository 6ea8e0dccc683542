/*
 * smtpd_check.h - the restriction engine's private interface, shared by
 * smtpd_check.c (replies, list evaluation, events), smtpd_rules.c (the
 * restrictions), smtpd_access.c (access tables, policy answers) and their
 * helpers: address resolution and recipient tables (smtpd_rcpt.c), DNS
 * lists (smtpd_dnsbl.c), policy servers (smtpd_policy.c), and parameters
 * of other areas read through smtpd.c.
 */
#ifndef POSTERN_SMTPD_CHECK_H
#define POSTERN_SMTPD_CHECK_H

#include "rewrite_clnt.h"
#include "smtpd.h"

/* Results of a restriction or a list. */
#define CHECK_DUNNO     0
#define CHECK_OK        1
#define CHECK_REJECT    2

#define CHECK_DEPTH_MAX 100

/* Reply classes: "<NAME>: CLASS rejected: TEXT". */
#define CLASS_CLIENT    "Client host"
#define CLASS_HELO      "Helo command"
#define CLASS_SENDER    "Sender address"
#define CLASS_RECIPIENT "Recipient address"
#define CLASS_DATA      "Data command"
#define CLASS_EOD       "End-of-data"
#define CLASS_ETRN      "Etrn command"

/* One list being evaluated. */
typedef struct check_ctx {
    smtpd_state *state;
    const char *name;                   /* shown as <NAME> in replies */
    const char *class;                  /* "Client host", ... */
    const char *recipient;              /* when the event has one */
    const char *etrn_domain;
    int     vrfy;                       /* VRFY: no message actions */
    int     depth;
    int     warn_next;                  /* warn_if_reject was the last entry */
    strbuf *defer_if_reject;            /* non-empty: DEFER_IF_REJECT seen */
} check_ctx;

/* A restriction name and what it does. */
typedef struct smtpd_rule {
    const char *name;
    int     needs_argument;             /* takes the next list item */
    int     (*check)(check_ctx *ctx, const char *argument);
} smtpd_rule;

/* smtpd_check.c */
int     smtpd_check_reject(check_ctx *ctx, int hard, int code, const char *dsn,
                           const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int     smtpd_check_lookup_failure(check_ctx *ctx, const char *name);
int     smtpd_check_config_error(check_ctx *ctx);
const char *smtpd_check_dsn(int code, const char *detail);
void    smtpd_check_defer_if_permit(int code, const char *dsn, const char *name,
                                    const char *class, const char *text);
int     smtpd_check_list(check_ctx *ctx, const argv_t *list);
void    smtpd_check_note_unlisted(void);

/* smtpd_rules.c */
const smtpd_rule *smtpd_check_rule(const char *name);
int     smtpd_check_unlisted_recipient(check_ctx *ctx, const char *unused);
int     smtpd_check_unlisted_sender(check_ctx *ctx, const char *unused);

/* smtpd_access.c */
maps_t *smtpd_check_table(const char *spec);
int     smtpd_check_table_result(check_ctx *ctx, const char *table, const char *value,
                                 const char *name, const char *class);
int     smtpd_check_client_access(check_ctx *ctx, const char *table);
int     smtpd_check_helo_access(check_ctx *ctx, const char *table);
int     smtpd_check_sender_access(check_ctx *ctx, const char *table);
int     smtpd_check_recipient_access(check_ctx *ctx, const char *table);
int     smtpd_check_policy_service(check_ctx *ctx, const char *endpoint);

/* smtpd_rcpt.c */
enum smtpd_rcpt_status { RCPT_KNOWN, RCPT_UNKNOWN, RCPT_RETRY };

const resolve_reply *smtpd_resolve(smtpd_state *state, const char *address);
int     smtpd_relay_allowed(smtpd_state *state, const char *recipient);
int     smtpd_recipient_known(smtpd_state *state, const char *address, int *reject_code,
                              const char **text);

/* smtpd_dnsbl.c */
int     smtpd_rbl_query(const char *name, int is_address, const char *domain_spec,
                        strbuf *listed_reason);
void    smtpd_rbl_reply(smtpd_state *state, const char *domain_spec, const char *class,
                        const char *what, const char *reason, const char *recipient,
                        strbuf *reply);
int     smtpd_domain_status(const char *domain);
void    smtpd_dnsbl_forget(void);

/* smtpd_sasl.c: the sender login checks (reject_*_sender_login_mismatch) */
#define LOGIN_CHECK_AUTHENTICATED   (1 << 0)    /* check authenticated clients */
#define LOGIN_CHECK_UNAUTHENTICATED (1 << 1)    /* check the others */
#define LOGIN_CHECK_KNOWN_ONLY      (1 << 2)    /* senders absent from the table pass */

int     smtpd_sasl_login_check(check_ctx *ctx, int mode);

/* smtpd_policy.c */
void    smtpd_policy_query(smtpd_state *state, const char *endpoint, const char *recipient,
                           const char *etrn_domain, strbuf *action);

/* smtpd.c: parameters declared by other areas' .def files. */
const char *smtpd_double_bounce_sender(void);
const char *smtpd_local_header_rewrite_clients(void);

#endif

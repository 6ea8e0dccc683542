/*
 * smtpd_check.h - what the restriction engine (smtpd_check.c) uses from
 * its helpers: address resolution and recipient tables (smtpd_rcpt.c),
 * DNS lists (smtpd_dnsbl.c), policy servers (smtpd_policy.c), and the
 * parameters of other areas read through smtpd.c.
 */
#ifndef POSTERN_SMTPD_CHECK_H
#define POSTERN_SMTPD_CHECK_H

#include "rewrite_clnt.h"
#include "smtpd.h"

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

/* smtpd_policy.c */
void    smtpd_policy_query(smtpd_state *state, const char *endpoint, const char *recipient,
                           const char *etrn_domain, strbuf *action);

/* smtpd.c: parameters declared by other areas' .def files. */
const char *smtpd_double_bounce_sender(void);
const char *smtpd_local_header_rewrite_clients(void);

#endif

/*
 * tls_policy - TLS security levels, the client's STARTTLS decision and the
 * smtp_tls_policy_maps value syntax.
 *
 * tls_level_lookup() maps a level name (none, may, encrypt, dane,
 * dane-only, fingerprint, verify, secure; case-insensitive) to its enum, or
 * TLS_LEV_INVALID. tls_level_name() is the reverse.
 *
 * tls_server_level() and tls_client_level() compute the level in effect
 * from main.cf (params_load() first): smtpd_tls_security_level /
 * smtp_tls_security_level when set; otherwise the legacy booleans, as
 * Postfix: *_enforce_tls gives encrypt (the client: verify when
 * smtp_tls_enforce_peername = yes), *_use_tls gives may, else none. A
 * server level beyond encrypt is not meaningful and is reported invalid.
 *
 * tls_level_effective() applies what the level needs from DNS: "dane"
 * without usable TLSA records is opportunistic ("may"), as Postfix.
 *
 * tls_starttls_decision() tells the SMTP client what to do after EHLO,
 * given the effective level and whether the server offered STARTTLS:
 *     none                      TLS_ACTION_PLAINTEXT (offer or not)
 *     may, dane (with TLSA)     TLS_ACTION_STARTTLS when offered, else
 *                               TLS_ACTION_PLAINTEXT only for may
 *     encrypt and above         TLS_ACTION_STARTTLS when offered, else
 *                               TLS_ACTION_REFUSE: never downgrade
 * With TLS_ACTION_REFUSE `reason` holds Postfix's text, "TLS is required,
 * but was not offered by host NAMADDR" (dsn 4.7.4).
 *
 * tls_policy_parse() parses a policy table value (the caller looked it up
 * in smtp_tls_policy_maps): a level name, then attributes:
 *     ciphers=GRADE        high, medium, low, export or null
 *     protocols=LIST       ":"-separated, tls_protocols_parse() syntax
 *     exclude=LIST         ":"-separated cipher exclusions
 *     match=LIST           verify/secure: ":"-separated names (hostname,
 *                          nexthop, dot-nexthop, a name, a .domain);
 *                          fingerprint: "|"-separated fingerprints
 *     servername=NAME      SNI: hostname, nexthop or a literal name
 *     tafile=FILE          trust anchors (verify, secure, dane)
 *     connection_reuse=yes|no
 * An unknown level or attribute, an attribute the level cannot use (match
 * with may, say) or a malformed value is an error: 0, or -1 with a reason
 * in `why` (the caller defers mail with "4.7.5 client TLS configuration
 * problem", as Postfix). The parsed strings belong to `policy`;
 * tls_policy_free() releases them (safe on a zeroed or failed policy).
 */
#ifndef POSTERN_TLS_POLICY_H
#define POSTERN_TLS_POLICY_H

#include "argv.h"
#include "strbuf.h"
#include "tls.h"

enum tls_action {
    TLS_ACTION_PLAINTEXT,               /* go on without TLS */
    TLS_ACTION_STARTTLS,                /* send STARTTLS */
    TLS_ACTION_REFUSE,                  /* TLS required and not offered: give up */
};

typedef struct tls_policy {
    enum tls_level level;
    char   *ciphers;                    /* grade, or NULL for the default */
    char   *protocols;                  /* as written, or NULL */
    char   *exclude;                    /* comma-separated, or NULL */
    argv_t *match;                      /* names or fingerprints, or NULL */
    char   *servername;                 /* or NULL */
    char   *tafile;                     /* or NULL */
    int     connection_reuse;
} tls_policy;

enum tls_level tls_level_lookup(const char *name);
const char *tls_level_name(enum tls_level level);
enum tls_level tls_server_level(void);
enum tls_level tls_client_level(void);
enum tls_level tls_level_effective(enum tls_level level, int have_tlsa);
int     tls_level_mandatory(enum tls_level level);
int     tls_level_must_match(enum tls_level level);
enum tls_action tls_starttls_decision(enum tls_level level, int offered,
                                      const char *namaddr, strbuf *reason);

int     tls_policy_parse(const char *value, tls_policy *policy, strbuf *why);
void    tls_policy_free(tls_policy *policy);

#endif

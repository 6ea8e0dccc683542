/*
 * smtp_tls - TLS for the SMTP and LMTP client: the security level of a
 * destination, the STARTTLS decision, starting and ending TLS on a session.
 * The TLS library (src/tls, docs/tls.md) does the handshake and the
 * certificate checks; this module applies Postfix's policy around it.
 *
 * smtp_tls_init() runs before chroot (pre_init). It reads the global level
 * (smtp_tls_security_level, else the legacy smtp_enforce_tls and
 * smtp_use_tls; an invalid level is fatal, as Postfix), opens
 * smtp_tls_policy_maps and, when either can ask for TLS, builds the client
 * context (client certificate, CAfile, CApath). A context that cannot be
 * built is logged; mail that requires TLS is then deferred ("TLS is
 * required, but our TLS engine is unavailable") and opportunistic mail goes
 * in plaintext, as Postfix does. The lmtp program reads lmtp_tls_*.
 *
 * smtp_tls_plan_find() decides the level of one next-hop. The policy
 * table is searched with the next-hop as qmgr gave it (brackets and port
 * included, LMTP's inet:/unix: prefix left out), then, for a bare domain,
 * with its parent domains as ".example.com"; without an entry the global
 * level applies. This client has no DNSSEC-validated TLSA lookups, so
 * "dane" is used as "may" and "dane-only" is a configuration problem, each
 * with Postfix's warning ("DEST: dane configured with dnssec lookups
 * disabled"). A malformed entry, a table that fails, or a "tafile="
 * attribute (not supported) logs a warning and gives -1 with the failure
 * "4.7.5 client TLS configuration problem": the caller defers without
 * connecting. The plan's strings are freed by smtp_tls_plan_free().
 *
 * smtp_tls_decide() runs after EHLO: plaintext, STARTTLS, or a refusal with
 * the failure set ("4.7.4 TLS is required, but was not offered by host
 * NAME[ADDR]", the downgrade defence). With smtp_tls_note_starttls_offer it
 * logs "Host offered STARTTLS: [NAME]" when the level is none.
 *
 * smtp_tls_start() runs after the server's 220 to STARTTLS: the handshake
 * and the level's checks. -1 with a 4.7.5 failure: "Cannot start TLS:
 * handshake failure", "Server certificate not trusted" (verify, secure: the
 * chain did not verify) or "Server certificate not verified" (the name or
 * fingerprint did not match). At level may a failed handshake sets
 * *retry_plain, so the caller tries the same server again without TLS,
 * unless SASL credentials exist for it (as Postfix). The session's stream
 * is unusable after -1.
 *
 * smtp_tls_wrap() starts TLS at once after connecting when
 * smtp_tls_wrappermode = yes (SMTPS, port 465): 0 when not in wrapper mode
 * or TLS is up; -1 with the failure as for smtp_tls_start(). Wrapper mode
 * needs level encrypt or stronger: below that smtp_tls_plan_find() defers
 * the mail ("client TLS configuration problem") after a warning, as Postfix.
 *
 * smtp_tls_end() ends TLS on a session (close_notify when graceful).
 *
 * Sessions are reused through tlsmgr's "smtp" cache when
 * smtp_tls_session_cache_database is set (not for LMTP, which has no such
 * parameter here), keyed by next-hop and server ("nexthop&name[addr]:port";
 * the TLS library adds a digest of the policy).
 */
#include <stdlib.h>
#include <string.h>

#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "smtp.h"
#include "tls_client.h"
#include "tls_mgr.h"

static tls_client_ctx *client_ctx;      /* NULL: no TLS engine */
static maps_t *policy_maps;             /* NULL: not configured */
static enum tls_level global_level;

#define PICK(name) (smtp_cfg.lmtp ? var_lmtp_##name : var_smtp_##name)
#define FAMILY (smtp_cfg.lmtp ? "lmtp" : "smtp")

static enum tls_level configured_level(void)
{
    if (!smtp_cfg.lmtp)
        return tls_client_level();
    if (*var_lmtp_tls_security_level)
        return tls_level_lookup(var_lmtp_tls_security_level);
    if (var_lmtp_enforce_tls)
        return var_lmtp_tls_enforce_peername ? TLS_LEV_VERIFY : TLS_LEV_ENCRYPT;
    return var_lmtp_use_tls ? TLS_LEV_MAY : TLS_LEV_NONE;
}

void smtp_tls_init(void)
{
    const char *maps = PICK(tls_policy_maps);
    tls_client_config cfg;
    strbuf *why;

    if ((global_level = configured_level()) == TLS_LEV_INVALID)
        msg_fatal("invalid tls security level: \"%s\"", PICK(tls_security_level));
    if (*maps) {
        why = strbuf_new(32);
        strbuf_printf(why, "%s_tls_policy_maps", FAMILY);
        policy_maps = maps_open(why->data, maps, MAP_FLAG_FOLD);
        strbuf_free(why);
    }
    if (global_level == TLS_LEV_NONE && policy_maps == NULL)
        return;
    if (smtp_cfg.lmtp)
        tls_client_config_init_lmtp(&cfg);
    else
        tls_client_config_init(&cfg);
    if (!smtp_cfg.lmtp && *var_smtp_tls_session_cache_database)
        cfg.cache = tls_mgr_cache_open(TLS_MGR_CACHE_SMTP, var_smtp_tls_session_cache_timeout);
    why = strbuf_new(64);
    if ((client_ctx = tls_client_init(&cfg, why)) == NULL)
        msg_warn("cannot start the %s TLS engine: %s", FAMILY, why->data);
    strbuf_free(why);
}

/* The next-hop without LMTP's socket type prefix: the policy table key. */
static const char *policy_key(const char *dest)
{
    if (smtp_cfg.lmtp && (strncmp(dest, "inet:", 5) == 0 || strncmp(dest, "unix:", 5) == 0))
        return dest + 5;
    return dest;
}

/* The next-hop domain for "nexthop" name checks: no brackets, no port. */
static char *nexthop_domain(const char *dest)
{
    const char *key = policy_key(dest);
    const char *end;

    if (smtp_cfg.lmtp && strncmp(dest, "unix:", 5) == 0)
        return xstrdup(var_myhostname);
    if (*key == '[' && (end = strchr(key, ']')) != NULL)
        return xstrndup(key + 1, (size_t) (end - key - 1));
    if ((end = strrchr(key, ':')) != NULL)
        return xstrndup(key, (size_t) (end - key));
    return xstrdup(key);
}

/* The table entry: MAP_OK with `value`, MAP_NOTFOUND or MAP_ERROR. */
static int policy_lookup(const char *key, const char **value)
{
    int     status = maps_find(policy_maps, key, 0, value);
    strbuf *parent;

    if (status != MAP_NOTFOUND || *key == '[' || strchr(key, ':') || strchr(key, '/'))
        return status;
    parent = strbuf_new(64);
    for (const char *dot = strchr(key, '.'); dot && status == MAP_NOTFOUND;
         dot = strchr(dot + 1, '.')) {
        strbuf_set(parent, dot);
        status = maps_find(policy_maps, parent->data, MAP_FLAG_FIXED, value);
    }
    strbuf_free(parent);
    return status;
}

static int config_problem(smtp_failure *fail)
{
    smtp_failure_set(fail, "4.7.5", "client TLS configuration problem");
    return -1;
}

/* Reads the table entry into the plan; 0, or -1 after a warning. */
static int plan_from_table(const char *dest, smtp_tls_plan *plan)
{
    const char *key = policy_key(dest);
    const char *value;
    strbuf *why;
    int     status = policy_lookup(key, &value);

    if (status == MAP_NOTFOUND)
        return 0;
    if (status == MAP_ERROR) {
        msg_warn("%s_tls_policy_maps lookup error for \"%s\": %s", FAMILY, key,
                 maps_error(policy_maps));
        return -1;
    }
    why = strbuf_new(64);
    if (tls_policy_parse(value, &plan->policy, why) < 0) {
        msg_warn("TLS policy table, next-hop destination \"%s\": %s", key, why->data);
        strbuf_free(why);
        return -1;
    }
    strbuf_free(why);
    plan->have_policy = 1;
    plan->level = plan->policy.level;
    if (plan->policy.tafile) {
        msg_warn("TLS policy table, next-hop destination \"%s\": tafile is not supported", key);
        return -1;
    }
    return 0;
}

int smtp_tls_plan_find(const char *dest, smtp_tls_plan *plan, smtp_failure *fail)
{
    memset(plan, 0, sizeof(*plan));
    plan->level = global_level;
    plan->nexthop = nexthop_domain(dest);
    if (policy_maps && plan_from_table(dest, plan) < 0)
        return config_problem(fail);
    if (plan->level == TLS_LEV_DANE || plan->level == TLS_LEV_DANE_ONLY) {
        msg_warn("%s: %s configured with dnssec lookups disabled", policy_key(dest),
                 tls_level_name(plan->level));
        if (plan->level == TLS_LEV_DANE_ONLY)
            return config_problem(fail);
        plan->level = tls_level_effective(plan->level, 0);
    }
    if (PICK(tls_wrappermode) && !tls_level_mandatory(plan->level)) {
        msg_warn("%s_tls_wrappermode requires \"%s_tls_security_level = encrypt\" "
                 "(or stronger)", FAMILY, FAMILY);
        return config_problem(fail);
    }
    return 0;
}

void smtp_tls_plan_free(smtp_tls_plan *plan)
{
    if (plan->have_policy)
        tls_policy_free(&plan->policy);
    free(plan->nexthop);
    memset(plan, 0, sizeof(*plan));
}

enum tls_action smtp_tls_decide(const smtp_session *session, const smtp_tls_plan *plan,
                                smtp_failure *fail)
{
    int     offered = (session->features & SMTP_FEATURE_STARTTLS) != 0;
    strbuf *reason = strbuf_new(64);
    enum tls_action action = tls_starttls_decision(plan->level, offered, session->host, reason);

    if (offered && plan->level == TLS_LEV_NONE && PICK(tls_note_starttls_offer))
        msg_info("Host offered STARTTLS: [%s]", session->name);
    if (action == TLS_ACTION_REFUSE) {
        smtp_failure_set(fail, "4.7.4", "%s", reason->data);
    } else if (action == TLS_ACTION_STARTTLS && client_ctx == NULL) {
        action = tls_level_mandatory(plan->level) ? TLS_ACTION_REFUSE : TLS_ACTION_PLAINTEXT;
        if (action == TLS_ACTION_REFUSE)
            smtp_failure_set(fail, "4.7.5", "TLS is required, but our TLS engine is unavailable");
    }
    strbuf_free(reason);
    return action;
}

int smtp_tls_start(smtp_session *session, const smtp_tls_plan *plan, smtp_failure *fail,
                   int *retry_plain)
{
    tls_client_params params = {.level = plan->level,.host = session->name,
        .nexthop = plan->nexthop,.namaddr = session->namaddr,
        .policy = plan->have_policy ? &plan->policy : NULL,
        .timeout = PICK(starttls_timeout) };
    tls_session_info *info = &session->tls_info;
    strbuf *cache_key = strbuf_new(64);
    int     handshake_done;

    *retry_plain = 0;
    strbuf_printf(cache_key, "%s&%s", plan->nexthop, session->namaddr);
    params.cache_key = cache_key->data;
    session->tls = tls_client_start(client_ctx, session->stream, &params, info);
    strbuf_free(cache_key);
    if (session->tls != NULL)
        return 0;
    handshake_done = info->protocol != NULL;
    smtp_failure_set(fail, "4.7.5", "%s", info->failure_reason ? info->failure_reason :
                     "Cannot start TLS: handshake failure");
    if (!handshake_done && plan->level == TLS_LEV_MAY)
        *retry_plain = !smtp_sasl_has_credentials(session);
    tls_session_info_free(info);
    return -1;
}

int smtp_tls_wrap(smtp_session *session, const smtp_tls_plan *plan, smtp_failure *fail)
{
    int     retry_plain;

    if (!PICK(tls_wrappermode))
        return 0;
    if (client_ctx == NULL) {
        smtp_failure_set(fail, "4.7.5", "TLS is required, but our TLS engine is unavailable");
        return -1;
    }
    return smtp_tls_start(session, plan, fail, &retry_plain);
}

void smtp_tls_end(smtp_session *session, int graceful)
{
    if (session->tls == NULL)
        return;
    (void) tls_session_stop(session->tls, session->stream, graceful);
    session->tls = NULL;
    tls_session_info_free(&session->tls_info);
}

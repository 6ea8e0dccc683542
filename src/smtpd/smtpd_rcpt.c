/*
 * smtpd_rcpt - relay and recipient decisions, through trivial-rewrite.
 *
 * smtpd_resolve(state, address) asks trivial-rewrite (resolve_clnt) what
 * an address is: its class (local, virtual alias, virtual mailbox, relay,
 * other), whether it carried routing (user%host, host!user, a quoted
 * "user@host" local part), its canonical form. The last answer is cached,
 * as one RCPT asks several questions about the same address. NULL when
 * trivial-rewrite cannot be reached or could not decide (a table failed):
 * the caller defers, never guesses.
 *
 * smtpd_relay_allowed() is permit_auth_destination: 1 when the address is a
 * final destination of ours, or in relay_domains without routing; 0 when
 * relaying there needs authorization; -1 when unknown (defer). With
 * allow_untrusted_routing = no (the default) a routed address in
 * relay_domains is not trusted, and a routed address never resolves to a
 * final class by accident: trivial-rewrite strips our domain and resolves
 * what is left ("user%remote@us" is "user@remote").
 *
 * smtpd_recipient_known() is the reject_unlisted_recipient test: local
 * domains against local_recipient_maps, virtual alias domains against
 * virtual_alias_maps, virtual mailbox domains against virtual_mailbox_maps,
 * relay domains against relay_recipient_maps (when set; an empty parameter
 * leaves its table NULL: no check). An address found
 * in canonical_maps, recipient_canonical_maps or virtual_alias_maps is
 * always known, as are postmaster, MAILER-DAEMON and double-bounce in local
 * domains. Returns RCPT_KNOWN, RCPT_UNKNOWN (with the reject code and
 * Postfix's "User unknown in ... table" text) or RCPT_RETRY (a lookup
 * failed: defer with 451 4.3.0).
 */
#include <string.h>
#include <strings.h>

#include "addr_find.h"
#include "mail_params.h"
#include "mem.h"
#include "rewrite_clnt.h"
#include "smtpd.h"
#include "smtpd_check.h"

static strbuf *cached_address;
static resolve_reply cached_reply;
static int cached_valid;

const resolve_reply *smtpd_resolve(smtpd_state *state, const char *address)
{
    if (cached_address == NULL) {
        cached_address = strbuf_new(64);
        resolve_reply_init(&cached_reply);
    }
    if (cached_valid && strcmp(cached_address->data, address) == 0)
        return &cached_reply;
    cached_valid = 0;
    if (resolve_clnt(state->sender, address, &cached_reply) < 0
        || (cached_reply.flags & RESOLVE_FLAG_FAIL))
        return NULL;
    strbuf_set(cached_address, address);
    cached_valid = 1;
    return &cached_reply;
}

/* Routing characters in the local part of a canonical address? */
static int routed_local_part(const char *canon)
{
    const char *at = strrchr(canon, '@');
    size_t  len = at ? (size_t) (at - canon) : strlen(canon);

    for (size_t i = 0; i < len; i++)
        if (canon[i] == '@' || canon[i] == '%' || canon[i] == '!')
            return 1;
    return 0;
}

int smtpd_relay_allowed(smtpd_state *state, const char *recipient)
{
    const resolve_reply *reply = smtpd_resolve(state, recipient);

    if (reply == NULL)
        return -1;
    if (reply->flags & RESOLVE_CLASS_FINAL)
        return 1;
    if (!var_allow_untrusted_routing && ((reply->flags & RESOLVE_FLAG_ROUTED)
                                         || routed_local_part(reply->recipient->data)))
        return 0;
    return (reply->flags & RESOLVE_CLASS_RELAY) != 0;
}

/* Is the local part (before the last '@') `name`, without regard to case? */
static int local_part_is(const char *address, const char *name)
{
    size_t  len = strlen(name);

    return strncasecmp(address, name, len) == 0 && address[len] == '@';
}

/* A lookup in one table list: 1 found, 0 not, -1 error. */
static int found_in(maps_t *maps, const char *address, int domain_is_local)
{
    addr_find_opts opts = {.strategy = ADDR_FIND_VIRTUAL,.domain_is_local = domain_is_local };
    const char *value;
    int     status;

    if (maps == NULL)
        return 0;
    status = addr_find(maps, address, &opts, &value, NULL);
    return status == MAP_OK ? 1 : status == MAP_NOTFOUND ? 0 : -1;
}

static int unknown(int code, const char *table, int *reject_code, const char **text)
{
    static strbuf *buffer;

    if (buffer == NULL)
        buffer = strbuf_new(64);
    *reject_code = code;
    if (var_show_user_unknown_table_name)
        strbuf_printf(buffer, "User unknown in %s table", table);
    else
        strbuf_set(buffer, "User unknown");
    *text = buffer->data;
    return RCPT_UNKNOWN;
}

/* The per-class test; `canon` is trivial-rewrite's canonical form. */
static int known_in_class(int flags, const char *canon, int *reject_code, const char **text)
{
    smtpd_tables *t = &smtpd_tables_in_use;
    int     found;

    if (flags & RESOLVE_CLASS_LOCAL) {
        if (t->local_rcpt_maps == NULL || local_part_is(canon, "postmaster")
            || local_part_is(canon, "MAILER-DAEMON")
            || local_part_is(canon, smtpd_double_bounce_sender()))
            return RCPT_KNOWN;
        if ((found = found_in(t->local_rcpt_maps, canon, 1)) != 0)
            return found > 0 ? RCPT_KNOWN : RCPT_RETRY;
        return unknown(var_unknown_local_recipient_reject_code, "local recipient",
                       reject_code, text);
    }
    if (flags & RESOLVE_CLASS_ALIAS)
        return unknown(var_unknown_virtual_alias_reject_code, "virtual alias",
                       reject_code, text);
    if (flags & RESOLVE_CLASS_VIRTUAL) {
        if ((found = found_in(t->virtual_mailbox_maps, canon, 0)) != 0)
            return found > 0 ? RCPT_KNOWN : RCPT_RETRY;
        return unknown(var_unknown_virtual_mailbox_reject_code, "virtual mailbox",
                       reject_code, text);
    }
    if ((flags & RESOLVE_CLASS_RELAY) && t->relay_rcpt_maps != NULL) {
        if ((found = found_in(t->relay_rcpt_maps, canon, 0)) != 0)
            return found > 0 ? RCPT_KNOWN : RCPT_RETRY;
        return unknown(var_unknown_relay_recipient_reject_code, "relay recipient",
                       reject_code, text);
    }
    return RCPT_KNOWN;
}

int smtpd_recipient_known(smtpd_state *state, const char *address, int *reject_code,
                          const char **text)
{
    smtpd_tables *t = &smtpd_tables_in_use;
    const resolve_reply *reply = smtpd_resolve(state, address);
    const char *canon;
    int     found;

    if (reply == NULL)
        return RCPT_RETRY;
    canon = reply->recipient->data;
    if ((found = found_in(t->rcpt_canonical_maps, canon, 0)) != 0
        || (found = found_in(t->canonical_maps, canon, 0)) != 0
        || (found = found_in(t->virtual_alias_maps, canon, 0)) != 0)
        return found > 0 ? RCPT_KNOWN : RCPT_RETRY;
    return known_in_class(reply->flags, canon, reject_code, text);
}

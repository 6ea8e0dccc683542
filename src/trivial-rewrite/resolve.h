/*
 * resolve - where a recipient address goes: transport, next hop, the
 * recipient as delivered, and the address class (docs/trivial-rewrite.md).
 *
 * resolver_new(settings, why) opens what the settings name (the domain
 * lists, transport_maps, this machine's addresses); call it before chroot.
 * NULL with the reason in `why` when this machine's addresses cannot be
 * determined. A domain list or table that cannot be opened does not fail
 * here: it is logged, and each resolve that needs it fails with
 * RESOLVE_FLAG_FAIL, so mail waits instead of going astray.
 *
 * resolver_resolve(resolver, address, result) takes an address in internal
 * form and fills `result`:
 *
 * 1. Routing. While the address has a domain of ours (mydestination, or an
 *    [address] literal of inet_interfaces/proxy_interfaces), that domain is
 *    stripped and what is left is looked at again: a local part that holds
 *    '@' (it was quoted: "user@remote"@us; only with
 *    resolve_dequoted_address), '!' (swap_bangpath) or '%'
 *    (allow_percent_hack) is rewritten into user@host in the local context
 *    (rewrite.h) and resolved again, and RESOLVE_FLAG_ROUTED is set. So is
 *    it when a source route ("@a,@b:user@c") is dropped. A domain ending in
 *    one '.' loses it; user@ becomes user with resolve_null_domain; user@IP
 *    becomes user@[IP] with resolve_numeric_domain. An empty local part
 *    becomes $empty_address_recipient. A local address gets back the last
 *    domain of ours it had, or @$myhostname.
 * 2. Syntax. The recipient domain must be an address literal or a host name
 *    (valid UTF-8 too when smtputf8_enable); else RESOLVE_FLAG_ERROR.
 * 3. Class, first match: local (RESOLVE_CLASS_LOCAL, $local_transport,
 *    nexthop the domain); virtual_alias_domains (RESOLVE_CLASS_ALIAS, the
 *    "error" transport with nexthop "5.1.1 User unknown in virtual alias
 *    table", or "5.1.1 User unknown" without show_user_unknown_table_name);
 *    virtual_mailbox_domains (RESOLVE_CLASS_VIRTUAL, $virtual_transport,
 *    the domain); relay_domains (RESOLVE_CLASS_RELAY, $relay_transport) and
 *    anything else (RESOLVE_CLASS_DEFAULT, $default_transport), both with
 *    nexthop $relayhost when set, else the domain. The first three are
 *    final destinations: RESOLVE_FLAG_FINAL. A transport parameter of the
 *    form "transport:nexthop" sets the nexthop too.
 * 4. transport_maps (transport.h) may then change transport and nexthop,
 *    except for the virtual alias class.
 *
 * A table or list that fails sets RESOLVE_FLAG_FAIL (never a guess); the
 * result then has empty transport and nexthop and the address as given as
 * recipient. So has an address longer than RESOLVE_ADDRESS_MAX or routed
 * more than RESOLVE_ROUTING_MAX times, with RESOLVE_FLAG_ERROR. A null
 * transport parameter is logged and fails the same way.
 *
 * Memory: `settings` is copied, but its strings must outlive the resolver.
 * resolve_result_new() returns a result the caller reuses and frees with
 * resolve_result_free(). Time is linear in the address length for each
 * routing step.
 */
#ifndef POSTERN_RESOLVE_H
#define POSTERN_RESOLVE_H

#include "rewrite.h"
#include "rewrite_clnt.h"                   /* RESOLVE_FLAG_*, RESOLVE_CLASS_* */
#include "strbuf.h"

#define RESOLVE_ADDRESS_MAX     8192    /* bytes */
#define RESOLVE_ROUTING_MAX     100     /* routing steps */

typedef struct resolve_settings {
    rewrite_settings rewrite;           /* the local context, after routing */
    int     resolve_dequoted_address;
    int     resolve_null_domain;
    int     resolve_numeric_domain;
    int     show_user_unknown_table_name;
    int     smtputf8_enable;
    const char *myhostname;
    const char *empty_address_recipient;
    const char *recipient_delimiter;
    const char *mydestination;
    const char *inet_interfaces;
    const char *proxy_interfaces;
    const char *inet_protocols;
    const char *virtual_alias_domains;
    const char *virtual_mailbox_domains;
    const char *relay_domains;
    const char *local_transport;
    const char *virtual_transport;
    const char *relay_transport;
    const char *default_transport;
    const char *relayhost;
    const char *transport_maps;
} resolve_settings;

typedef struct resolve_result {
    int     flags;                      /* RESOLVE_FLAG_* | RESOLVE_CLASS_* */
    strbuf *transport;
    strbuf *nexthop;
    strbuf *recipient;
} resolve_result;

typedef struct resolver resolver;

resolver *resolver_new(const resolve_settings *settings, strbuf *why);
void    resolver_resolve(resolver *resolver, const char *address, resolve_result *result);
void    resolver_free(resolver *resolver);

resolve_result *resolve_result_new(void);
void    resolve_result_free(resolve_result *result);

#endif

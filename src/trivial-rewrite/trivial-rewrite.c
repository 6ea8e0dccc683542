/*
 * trivial-rewrite - the address rewriting and resolving service.
 *
 * A multi server on private/rewrite (master.cf: "rewrite unix - - y - -
 * trivial-rewrite"). Clients (smtpd, cleanup, qmgr, local) keep one
 * connection for many requests; each request is one frame and gets one
 * reply frame (docs/protocols.md, "trivial-rewrite"):
 *
 *   request=rewrite rule=local|remote address=A
 *       -> flags=0 address=CANONICAL                       (rewrite.h)
 *   request=resolve [sender=S] address=A
 *       -> flags=F transport=T nexthop=N recipient=R       (resolve.h)
 *
 * Addresses are in internal form. A frame that does not parse, an unknown
 * request, a missing or unknown rule (or a rule with resolve) is logged as
 * a warning and the client is disconnected; other clients are not
 * affected. The sender is accepted and not used (no sender-dependent
 * routing yet).
 *
 * The domain lists and transport_maps are opened before the chroot
 * (pre_init); when one of them changes on disk and cannot be reopened in
 * the jail, the process stops answering: each client is disconnected at
 * its next request (it retries on a fresh connection), and the process
 * exits once the last one has gone, so master starts one with the new
 * tables.
 */
#include <string.h>

#include "attr.h"
#include "mail_params.h"
#include "msg.h"
#include "resolve.h"
#include "rewrite.h"
#include "server.h"
#include "strbuf.h"

static rewrite_settings rewrite_config;
static resolver *resolver_in_use;
static resolve_result *result;
static strbuf *request_name;
static strbuf *rule_name;
static strbuf *sender;
static strbuf *address;
static strbuf *rewritten;

/* attr_scan leaves an absent optional string as it was: a NUL, which no
 * string attribute can hold, marks "absent". */
static void mark_absent(strbuf *value)
{
    strbuf_set_mem(value, "", 1);
}

static int is_absent(const strbuf *value)
{
    return value->len == 1 && value->data[0] == 0;
}

static void load_rewrite_settings(void)
{
    rewrite_config = (rewrite_settings) {
        .swap_bangpath = var_swap_bangpath,
        .allow_percent_hack = var_allow_percent_hack,
        .append_at_myorigin = var_append_at_myorigin,
        .append_dot_mydomain = var_append_dot_mydomain,
        .myorigin = var_myorigin,
        .mydomain = var_mydomain,
        .remote_header_rewrite_domain = var_remote_header_rewrite_domain,
    };
}

static void open_resolver(void)
{
    resolve_settings settings = {
        .rewrite = rewrite_config,
        .resolve_dequoted_address = var_resolve_dequoted_address,
        .resolve_null_domain = var_resolve_null_domain,
        .resolve_numeric_domain = var_resolve_numeric_domain,
        .show_user_unknown_table_name = var_show_user_unknown_table_name,
        .smtputf8_enable = var_smtputf8_enable,
        .myhostname = var_myhostname,
        .empty_address_recipient = var_empty_address_recipient,
        .recipient_delimiter = var_recipient_delimiter,
        .mydestination = var_mydestination,
        .inet_interfaces = var_inet_interfaces,
        .proxy_interfaces = var_proxy_interfaces,
        .inet_protocols = var_inet_protocols,
        .virtual_alias_domains = var_virtual_alias_domains,
        .virtual_mailbox_domains = var_virtual_mailbox_domains,
        .relay_domains = var_relay_domains,
        .local_transport = var_local_transport,
        .virtual_transport = var_virtual_transport,
        .relay_transport = var_relay_transport,
        .default_transport = var_default_transport,
        .relayhost = var_relayhost,
        .transport_maps = var_transport_maps,
    };
    strbuf *why = strbuf_new(64);

    if ((resolver_in_use = resolver_new(&settings, why)) == NULL)
        msg_fatal("%s", why->data);
    strbuf_free(why);
}

/* Root, outside the chroot: tables and this machine's addresses. */
static void rewrite_pre_init(const server_ctx *ctx)
{
    load_rewrite_settings();
    open_resolver();
    result = resolve_result_new();
    request_name = strbuf_new(16);
    rule_name = strbuf_new(16);
    sender = strbuf_new(64);
    address = strbuf_new(256);
    rewritten = strbuf_new(256);
}

/* Reads one request frame; 1 read, 0 the client is done, -1 malformed. */
static int read_request(stream *client)
{
    const attr_spec spec[] = {
        ATTR_STR("request", request_name),
        ATTR_OPT_STR("rule", rule_name),
        ATTR_OPT_STR("sender", sender),
        ATTR_STR("address", address),
        ATTR_END,
    };

    if (stream_peek(client) < 0)
        return 0;
    mark_absent(rule_name);
    mark_absent(sender);
    return attr_scan(client, 0, spec) < 0 ? -1 : 1;
}

static int answer_rewrite(stream *client)
{
    enum rewrite_rule rule;

    if (is_absent(rule_name)) {
        msg_warn("rewrite request without a rule");
        return -1;
    }
    if (rewrite_rule_parse(rule_name->data, &rule) < 0) {
        msg_warn("rewrite request with unknown rule \"%s\"", rule_name->data);
        return -1;
    }
    rewrite_address(&rewrite_config, rule, address->data, rewritten);
    if (msg_verbose)
        msg_info("rewrite %s: \"%s\" -> \"%s\"", rule_name->data, address->data,
                 rewritten->data);
    attr_put_int(client, "flags", 0);
    attr_put_str(client, "address", rewritten->data);
    return attr_end(client);
}

static int answer_resolve(stream *client)
{
    if (!is_absent(rule_name)) {
        msg_warn("resolve request with a rule attribute");
        return -1;
    }
    resolver_resolve(resolver_in_use, address->data, result);
    if (msg_verbose)
        msg_info("resolve \"%s\" -> flags=%d transport=%s nexthop=%s recipient=%s",
                 address->data, result->flags, result->transport->data,
                 result->nexthop->data, result->recipient->data);
    attr_put_int(client, "flags", result->flags);
    attr_put_str(client, "transport", result->transport->data);
    attr_put_str(client, "nexthop", result->nexthop->data);
    attr_put_str(client, "recipient", result->recipient->data);
    return attr_end(client);
}

/* 0 answered, -1 a bad request (logged) or a client that went away. */
static int answer_request(stream *client)
{
    if (strcmp(request_name->data, "rewrite") == 0)
        return answer_rewrite(client);
    if (strcmp(request_name->data, "resolve") == 0)
        return answer_resolve(client);
    msg_warn("unknown request \"%s\"", request_name->data);
    return -1;
}

static void rewrite_service(stream *client, const server_ctx *ctx)
{
    switch (read_request(client)) {
    case 0:
        multi_server_disconnect(client);
        return;
    case -1:
        msg_warn("malformed request -- disconnecting the client");
        multi_server_disconnect(client);
        return;
    }
    if (answer_request(client) < 0)
        multi_server_disconnect(client);
}

int     main(int argc, char **argv)
{
    static const server_spec spec = {
        .pre_init = rewrite_pre_init,
        .service = rewrite_service,
    };

    multi_server_main(argc, argv, &spec);
}

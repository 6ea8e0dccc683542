/*
 * libFuzzer target: trivial-rewrite's canonical form and resolver
 * (src/trivial-rewrite/rewrite.h, resolve.h) on hostile addresses.
 *
 * The first input byte picks the switches (swap_bangpath,
 * allow_percent_hack, resolve_dequoted_address, resolve_null_domain,
 * resolve_numeric_domain, append_dot_mydomain); the rest, up to a NUL, is
 * the address in internal form. Checked on every input: no crash, leak or
 * endless loop; a canonical form is never longer than the input plus what
 * may be appended; a resolved recipient has an '@' and exactly one address
 * class, a transport, and RESOLVE_FLAG_FINAL exactly for the final
 * classes; an answer given up on carries only its flag.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/trivial-rewrite/resolve.h"

#define SWITCHES 64

static resolver *resolvers[SWITCHES];

static resolve_settings settings_for(int bits)
{
    return (resolve_settings) {
        .rewrite = {
            .swap_bangpath = bits & 1,
            .allow_percent_hack = (bits >> 1) & 1,
            .append_at_myorigin = 1,
            .append_dot_mydomain = (bits >> 5) & 1,
            .myorigin = "mx.example.test",
            .mydomain = "example.test",
            .remote_header_rewrite_domain = "domain.invalid",
        },
        .resolve_dequoted_address = (bits >> 2) & 1,
        .resolve_null_domain = (bits >> 3) & 1,
        .resolve_numeric_domain = (bits >> 4) & 1,
        .show_user_unknown_table_name = 1,
        .smtputf8_enable = 1,
        .myhostname = "mx.example.test",
        .empty_address_recipient = "MAILER-DAEMON",
        .recipient_delimiter = "+-",
        .mydestination = "mx.example.test, localhost, .sub.example.test",
        .inet_interfaces = "loopback-only",
        .proxy_interfaces = "192.0.2.7",
        .inet_protocols = "all",
        .virtual_alias_domains = "valias.example",
        .virtual_mailbox_domains = "inline:{ vmbox.example=1 }",
        .relay_domains = "relay.example",
        .local_transport = "local:mx.example.test",
        .virtual_transport = "virtual",
        .relay_transport = "relay",
        .default_transport = "smtp",
        .relayhost = "",
        .transport_maps = "inline:{ user@special.example=slow:, .example=:[gw.example], "
            "error.example=error:nope } regexp:{ {/^x+@/ fast:} }",
    };
}

static resolver *resolver_for(int bits)
{
    if (resolvers[bits] == NULL) {
        resolve_settings s = settings_for(bits);
        strbuf *why = strbuf_new(16);

        if ((resolvers[bits] = resolver_new(&s, why)) == NULL)
            abort();
        strbuf_free(why);
    }
    return resolvers[bits];
}

static void check_rewrite(const rewrite_settings *s, const char *address)
{
    strbuf *out = strbuf_new(16);
    size_t  room = strlen(address) + 1 + strlen(s->myorigin) + 1 + strlen(s->mydomain)
        + strlen(s->remote_header_rewrite_domain) * 2 + 2;

    rewrite_address(s, REWRITE_RULE_LOCAL, address, out);
    if (out->len > room || strlen(out->data) != out->len)
        abort();
    rewrite_address(s, REWRITE_RULE_REMOTE, address, out);
    if (out->len > room || strlen(out->data) != out->len)
        abort();
    strbuf_free(out);
}

static int one_class(int flags)
{
    int     classes = flags & RESOLVE_CLASS_MASK;

    return classes != 0 && (classes & (classes - 1)) == 0;
}

static void check_resolve(resolver *r, const char *address)
{
    resolve_result *result = resolve_result_new();
    int     flags;

    resolver_resolve(r, address, result);
    flags = result->flags;
    if (flags == RESOLVE_FLAG_FAIL || flags == RESOLVE_FLAG_ERROR) {
        if (result->transport->len || result->nexthop->len
            || strcmp(result->recipient->data, address) != 0)
            abort();
    } else {
        if (!one_class(flags) || result->transport->len == 0
            || strchr(result->recipient->data, '@') == NULL)
            abort();
        if (((flags & RESOLVE_FLAG_FINAL) != 0) != ((flags & RESOLVE_CLASS_FINAL) != 0))
            abort();
    }
    resolve_result_free(result);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int     bits;
    char   *address;
    resolve_settings s;

    if (size < 1)
        return 0;
    bits = data[0] % SWITCHES;
    address = strndup((const char *) data + 1, size - 1);
    if (address == NULL)
        return 0;
    s = settings_for(bits);
    check_rewrite(&s.rewrite, address);
    check_resolve(resolver_for(bits), address);
    free(address);
    return 0;
}

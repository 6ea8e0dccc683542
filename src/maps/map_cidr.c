/*
 * map_cidr - cidr: tables of IPv4 and IPv6 networks.
 *
 * Rules are "network result" (see map_rules.h for !, if/endif and the
 * rest; cidr_match.h for network syntax). The key is a bare address; a key
 * that is not an address (a host name, "[192.0.2.1]") matches nothing. The
 * result is used as written: no $ substitution.
 */
#include <ctype.h>
#include <stdlib.h>

#include "cidr_match.h"
#include "map_rules.h"
#include "mem.h"

static void *cidr_parse(const char **text, int *groups, strbuf *why)
{
    const char *cp = *text;
    strbuf *token = strbuf_new(64);
    cidr_net *net = xmalloc(sizeof(*net));

    while (*cp && !isspace((unsigned char) *cp))
        cp++;
    strbuf_set_mem(token, *text, (size_t) (cp - *text));
    *text = cp;
    *groups = 0;
    if (cidr_net_parse(token->data, net, why) < 0) {
        free(net);
        net = NULL;
    }
    strbuf_free(token);
    return net;
}

static int cidr_prepare(const char *key, void *state)
{
    return cidr_addr_parse(key, state);
}

static int cidr_match_rule(void *pattern, const char *key, const void *state,
                           rule_captures *captures, strbuf *why)
{
    return cidr_net_match(pattern, state);
}

static const rule_engine cidr_engine = {
    .label = "cidr map",
    .result_required = 1,
    .prepared_size = sizeof(cidr_addr),
    .parse = cidr_parse,
    .prepare = cidr_prepare,
    .match = cidr_match_rule,
    .free = free,
};

static int cidr_open(map_t *map, strbuf *why)
{
    return map_rules_open(map, &cidr_engine, why);
}

const map_type map_type_cidr = {
    .name = "cidr",
    .properties = MAP_FLAG_PATTERN,
    .open = cidr_open,
    .lookup = map_rules_lookup,
    .close = map_rules_close,
};

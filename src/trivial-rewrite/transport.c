/*
 * transport - transport_maps lookups and results. See transport.h.
 */
#include <stdlib.h>
#include <string.h>

#include "addr_find.h"
#include "maps.h"
#include "mem.h"
#include "transport.h"

#define TRANSPORT_WILDCARD "*"

struct transport_table {
    maps_t *maps;
    char   *delimiters;
};

transport_table *transport_table_open(const char *list, const char *delimiters)
{
    transport_table *table = xcalloc(1, sizeof(*table));

    table->maps = maps_open("transport_maps", list, MAP_FLAG_FOLD);
    table->delimiters = xstrdup(delimiters);
    return table;
}

/* Postfix's delivery agents that take a reason as their next hop. */
static int takes_reason(const char *transport)
{
    return strcmp(transport, "error") == 0 || strcmp(transport, "retry") == 0;
}

static void apply_result(const char *value, const char *domain, strbuf *transport,
                         strbuf *nexthop)
{
    const char *colon = strchr(value, ':');
    size_t  name_len = colon ? (size_t) (colon - value) : strlen(value);
    const char *next = colon ? colon + 1 : "";

    if (name_len > 0) {
        strbuf_set_mem(transport, value, name_len);
        if (*next == 0)
            next = takes_reason(transport->data) ? "Address is undeliverable" : domain;
    }
    if (*next)
        strbuf_set(nexthop, next);
}

int     transport_table_find(transport_table *table, const char *recipient,
                             strbuf *transport, strbuf *nexthop)
{
    addr_find_opts opts = {
        .strategy = ADDR_FIND_FULL | ADDR_FIND_NOEXT | ADDR_FIND_DOMAIN,
        .parent_style_param = "transport_maps",
        .delimiters = table->delimiters,
    };
    const char *at = strrchr(recipient, '@');
    const char *value;
    int     status = addr_find(table->maps, recipient, &opts, &value, NULL);

    if (status == MAP_NOTFOUND)
        status = maps_find(table->maps, TRANSPORT_WILDCARD, 0, &value);
    if (status == MAP_ERROR)
        return -1;
    if (status != MAP_OK)
        return 0;
    apply_result(value, at ? at + 1 : "", transport, nexthop);
    return 1;
}

const char *transport_table_error(const transport_table *table)
{
    return maps_error(table->maps);
}

void    transport_table_free(transport_table *table)
{
    if (table == NULL)
        return;
    maps_free(table->maps);
    free(table->delimiters);
    free(table);
}

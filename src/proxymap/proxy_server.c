/*
 * proxy_server - approved tables and lookup requests. See proxy_server.h.
 */
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "htable.h"
#include "map.h"
#include "map_proxy.h"
#include "map_text.h"
#include "mem.h"
#include "msg.h"
#include "proxy_server.h"

struct proxy_server {
    htable *approved;                   /* TYPE:NAME -> (unused) */
    htable *open_tables;                /* "FLAGS:TYPE:NAME" -> map_t */
    strbuf *request;
    strbuf *table;
    strbuf *key;
    strbuf *value;
    strbuf *reason;
};

static void approve_entries(proxy_server *server, const char *read_maps)
{
    argv_t *items = argv_new(16);
    strbuf *why = strbuf_new(64);

    if (map_split_list(read_maps, items, why) < 0)
        msg_warn("proxy_read_maps: %s", why->data);
    for (size_t i = 0; i < items->count; i++) {
        const char *name = items->items[i];

        if (strncmp(name, PROXY_PREFIX, strlen(PROXY_PREFIX)) != 0)
            continue;
        while (strncmp(name, PROXY_PREFIX, strlen(PROXY_PREFIX)) == 0)
            name += strlen(PROXY_PREFIX);
        if (strchr(name, ':') != NULL)
            htable_put(server->approved, name, server, NULL);
    }
    strbuf_free(why);
    argv_free(items);
}

proxy_server *proxy_server_new(const char *read_maps)
{
    proxy_server *server = xcalloc(1, sizeof(*server));

    server->approved = htable_new(32);
    server->open_tables = htable_new(32);
    server->request = strbuf_new(16);
    server->table = strbuf_new(64);
    server->key = strbuf_new(64);
    server->value = strbuf_new(64);
    server->reason = strbuf_new(64);
    approve_entries(server, read_maps);
    return server;
}

int     proxy_server_allows(const proxy_server *server, const char *table)
{
    return htable_get(server->approved, table) != NULL;
}

static void close_table(void *map)
{
    map_close(map);
}

void    proxy_server_free(proxy_server *server)
{
    if (server == NULL)
        return;
    htable_free(server->approved, NULL);
    htable_free(server->open_tables, close_table);
    strbuf_free(server->request);
    strbuf_free(server->table);
    strbuf_free(server->key);
    strbuf_free(server->value);
    strbuf_free(server->reason);
    free(server);
}

/* The open table for (table, flags), opened now if need be; NULL if broken. */
static map_t *table_for(proxy_server *server, int flags)
{
    strbuf *name = strbuf_new(64);
    map_t  *map;

    strbuf_printf(name, "%d:%s", flags, server->table->data);
    if ((map = htable_get(server->open_tables, name->data)) == NULL) {
        map = map_open(server->table->data, MAP_READ, flags);
        if (map_broken(map)) {
            msg_warn("%s", map_error(map));
            strbuf_set(server->reason, map_error(map));
            map_close(map);
            map = NULL;
        } else {
            htable_put(server->open_tables, name->data, map, NULL);
        }
    }
    strbuf_free(name);
    return map;
}

/* Looks the key up; the reply status, with value or reason filled in. */
static int look_up(proxy_server *server, int flags)
{
    const char *found;
    map_t  *map;

    strbuf_reset(server->value);
    strbuf_reset(server->reason);
    if (!proxy_server_allows(server, server->table->data)) {
        msg_warn("request for unapproved table: \"%s\"; to approve it, list %s%s in "
                 "proxy_read_maps", server->table->data, PROXY_PREFIX, server->table->data);
        strbuf_printf(server->reason, "table %s is not approved for proxy read access",
                      server->table->data);
        return PROXY_STAT_RETRY;
    }
    if ((map = table_for(server, flags)) == NULL)
        return PROXY_STAT_RETRY;
    switch (map_lookup(map, server->key->data, &found)) {
    case MAP_OK:
        strbuf_set(server->value, found);
        return PROXY_STAT_OK;
    case MAP_NOTFOUND:
        return PROXY_STAT_NOKEY;
    default:
        msg_warn("%s lookup error for \"%s\": %s", server->table->data, server->key->data,
                 map_error(map));
        strbuf_set(server->reason, map_error(map));
        return PROXY_STAT_RETRY;
    }
}

/* Reads and checks one request; 1, 0 at the end, -1 bad (logged). */
static int read_request(proxy_server *server, stream *client, int *flags)
{
    const attr_spec spec[] = {
        ATTR_STR("request", server->request),
        ATTR_STR("table", server->table),
        ATTR_INT("flags", flags),
        ATTR_STR("key", server->key),
        ATTR_END,
    };

    if (stream_peek(client) < 0)
        return 0;
    if (attr_scan(client, 0, spec) < 0) {
        msg_warn("malformed request -- disconnecting the client");
        return -1;
    }
    if (strcmp(server->request->data, PROXY_REQUEST_LOOKUP) != 0) {
        msg_warn("unsupported request \"%s\" -- disconnecting the client",
                 server->request->data);
        return -1;
    }
    if ((*flags & ~PROXY_MAP_FLAGS) != 0) {
        msg_warn("bad flags %#x for table %s -- disconnecting the client", (unsigned) *flags,
                 server->table->data);
        return -1;
    }
    return 1;
}

int     proxy_server_serve(proxy_server *server, stream *client)
{
    int     flags = 0;
    int     status = read_request(server, client, &flags);

    if (status <= 0)
        return status;
    status = look_up(server, flags);
    if (msg_verbose)
        msg_info("lookup %s \"%s\": status %d", server->table->data, server->key->data, status);
    attr_put_int(client, "status", status);
    attr_put_str(client, "value", server->value->data);
    if (status == PROXY_STAT_RETRY)
        attr_put_str(client, "reason", server->reason->data);
    return attr_end(client) < 0 ? -1 : 1;
}

/*
 * map_proxy - proxy:TYPE:NAME, a table looked up by the proxymap service.
 *
 * A chrooted daemon cannot read the system passwd file or tables outside
 * the jail; proxy:unix:passwd.byname asks proxymap (not chrooted) instead,
 * over private/proxymap (docs/protocols.md, "proxymap"; map_proxy.h).
 *
 * Opening checks the name only: TYPE must be a type this build knows, and
 * not proxy itself; the table is fixed-string or pattern as TYPE is, so
 * table lists send it the keys they would send TYPE. Nothing is connected
 * yet. The first lookup connects through mail_connect(), which works
 * inside and outside the chroot; one connection serves every proxy: table
 * of the process and is closed with the last of them. A lookup whose
 * exchange fails (proxymap exited, was restarted by a reload, timed out)
 * reconnects and tries once more; then, like a malformed reply, it is
 * MAP_ERROR with the reason, never a guess. proxymap's own "try again"
 * (a table it cannot read or may not open) is MAP_ERROR with its reason.
 *
 * The stream writes with MSG_NOSIGNAL, so a proxymap that went away costs
 * a command no SIGPIPE. Lookups only: update, delete and sequence are not
 * supported.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "map_impl.h"
#include "map_proxy.h"
#include "mem.h"

typedef struct proxy_table {
    char   *table;                      /* TYPE:NAME */
} proxy_table;

static stream *proxy_stream;            /* shared by every proxy: table */
static int proxy_tables_open;

static void proxy_disconnect(void)
{
    if (proxy_stream) {
        stream_close(proxy_stream);
        proxy_stream = NULL;
    }
}

static int proxy_connect(map_t *map)
{
    if (proxy_stream)
        return 0;
    if ((proxy_stream = mail_connect(MAIL_CLASS_PRIVATE, PROXY_SERVICE, var_ipc_timeout)) == NULL)
        return map_fail(map, "%s: cannot connect to the %s service: %s", map->spec,
                        PROXY_SERVICE, strerror(errno));
    return 0;
}

static int proxy_open(map_t *map, strbuf *why)
{
    const char *colon = strchr(map->name, ':');
    char   *type_name;
    const map_type *inner;
    proxy_table *table;
    int     usable;

    if (colon == NULL || colon == map->name || colon[1] == 0) {
        strbuf_printf(why, "%s: expecting \"proxy:type:name\" form", map->spec);
        return -1;
    }
    type_name = xstrndup(map->name, (size_t) (colon - map->name));
    inner = map_type_find(type_name);
    usable = inner != NULL && strcmp(type_name, "proxy") != 0;
    if (!usable)
        strbuf_printf(why, "%s: %s", map->spec, inner ? "a proxy cannot be proxied" :
                      "unsupported dictionary type");
    free(type_name);
    if (!usable)
        return -1;
    map->flags &= ~(MAP_FLAG_FIXED | MAP_FLAG_PATTERN);
    map->flags |= inner->properties & (MAP_FLAG_FIXED | MAP_FLAG_PATTERN);
    table = xcalloc(1, sizeof(*table));
    table->table = xstrdup(map->name);
    map->impl = table;
    proxy_tables_open++;
    return 0;
}

/* One request and its reply; 0, or -1 when the exchange failed. */
static int proxy_exchange(map_t *map, const char *key, int *status, strbuf *value,
                          strbuf *reason)
{
    proxy_table *table = map->impl;
    const attr_spec reply[] = {
        ATTR_INT("status", status),
        ATTR_STR("value", value),
        ATTR_OPT_STR("reason", reason),
        ATTR_END,
    };

    if (proxy_connect(map) < 0)
        return -1;
    attr_put_str(proxy_stream, "request", PROXY_REQUEST_LOOKUP);
    attr_put_str(proxy_stream, "table", table->table);
    attr_put_int(proxy_stream, "flags", map->open_flags & PROXY_MAP_FLAGS);
    attr_put_str(proxy_stream, "key", key);
    strbuf_reset(reason);
    if (attr_end(proxy_stream) < 0 || attr_scan(proxy_stream, 0, reply) < 0) {
        proxy_disconnect();
        return map_fail(map, "%s: lookup of \"%s\": no reply from the %s service", map->spec,
                        key, PROXY_SERVICE);
    }
    return 0;
}

static int proxy_lookup(map_t *map, const char *key, strbuf *value)
{
    strbuf *reason = strbuf_new(64);
    int     status = -1;
    int     result;

    if (proxy_exchange(map, key, &status, value, reason) < 0
        && proxy_exchange(map, key, &status, value, reason) < 0)
        result = MAP_ERROR;
    else if (status == PROXY_STAT_OK)
        result = MAP_OK;
    else if (status == PROXY_STAT_NOKEY)
        result = MAP_NOTFOUND;
    else if (status == PROXY_STAT_RETRY)
        result = map_fail(map, "%s: lookup of \"%s\": %s", map->spec, key,
                          reason->len ? reason->data : "proxymap could not look it up");
    else
        result = map_fail(map, "%s: lookup of \"%s\": bad status %d from the %s service",
                          map->spec, key, status, PROXY_SERVICE);
    strbuf_free(reason);
    return result;
}

static void proxy_close(map_t *map)
{
    proxy_table *table = map->impl;

    free(table->table);
    free(table);
    map->impl = NULL;
    if (--proxy_tables_open == 0)
        proxy_disconnect();
}

const map_type map_type_proxy = {
    .name = "proxy",
    .open = proxy_open,
    .lookup = proxy_lookup,
    .close = proxy_close,
};

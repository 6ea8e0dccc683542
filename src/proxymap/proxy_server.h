/*
 * proxy_server - the proxymap service without its socket: which tables it
 * may open, and one lookup request answered (docs/proxymap.md).
 *
 * proxy_server_new(read_maps) takes the expanded proxy_read_maps value.
 * Only its "proxy:TYPE:NAME" entries count (Postfix's rule: a reference
 * that does not begin with "proxy:" is ignored); each approves TYPE:NAME.
 *
 * proxy_server_serve(server, client) reads one request frame from the
 * client and writes the reply (map_proxy.h, docs/protocols.md):
 *
 *   request=lookup table=TYPE:NAME flags=F key=K
 *   -> status=0 value=V            found
 *   -> status=1 value=             not found
 *   -> status=2 value= reason=R    the table failed, cannot be opened, or
 *                                  is not approved (logged as a warning)
 *
 * Tables are opened on first use with the client's flags and kept open,
 * one per (table, flags); one that cannot be opened is not kept, so the
 * next request tries again. A frame that does not parse, another request
 * name or flags outside PROXY_MAP_FLAGS are logged and the client must be
 * dropped.
 *
 * Result: 1 answered, 0 the client closed the connection, -1 a bad request
 * or a client that went away.
 *
 * Memory: the server owns its tables; proxy_server_free() closes them.
 */
#ifndef POSTERN_PROXY_SERVER_H
#define POSTERN_PROXY_SERVER_H

#include "stream.h"

typedef struct proxy_server proxy_server;

proxy_server *proxy_server_new(const char *read_maps);
int     proxy_server_allows(const proxy_server *server, const char *table);
int     proxy_server_serve(proxy_server *server, stream *client);
void    proxy_server_free(proxy_server *server);

#endif

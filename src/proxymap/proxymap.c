/*
 * proxymap - table lookups for daemons that cannot open the table
 * themselves: the system passwd file and files outside their chroot jail.
 *
 * A multi server on private/proxymap (master.cf: "proxymap unix - - n - -
 * proxymap"): not chrooted, running as the mail_owner. The proxy: table
 * type (src/maps/map_proxy.c) is its client. Which tables it opens, the
 * request and the replies are in proxy_server.h and docs/proxymap.md.
 *
 * A bad request is logged as a warning and its client disconnected; the
 * other clients are not affected. Tables that change on disk are reopened
 * by the map layer; the skeleton restarts the process when one cannot be.
 */
#include <stddef.h>

#include "mail_params.h"
#include "proxy_server.h"
#include "server.h"

static proxy_server *server_in_use;

static void proxymap_post_init(const server_ctx *ctx)
{
    server_in_use = proxy_server_new(var_proxy_read_maps);
}

static void proxymap_service(stream *client, const server_ctx *ctx)
{
    if (proxy_server_serve(server_in_use, client) <= 0)
        multi_server_disconnect(client);
}

int     main(int argc, char **argv)
{
    static const server_spec spec = {
        .post_init = proxymap_post_init,
        .service = proxymap_service,
    };

    multi_server_main(argc, argv, &spec);
}

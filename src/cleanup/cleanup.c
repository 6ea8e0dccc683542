/*
 * cleanup - the cleanup daemon: canonicalize and enqueue one message per
 * connection (docs/cleanup.md).
 *
 * A single server on public/cleanup. Tables are opened before the chroot
 * (pre_init); each client is one cleanup_session() (cleanup_service.c).
 */
#include "cleanup.h"
#include "server.h"

static void cleanup_pre_init(const server_ctx *ctx)
{
    (void) ctx;
    cleanup_tables_open();
}

static void cleanup_service(stream *client, const server_ctx *ctx)
{
    (void) ctx;
    cleanup_session(client);
}

int     main(int argc, char **argv)
{
    static const server_spec spec = {
        .pre_init = cleanup_pre_init,
        .service = cleanup_service,
    };

    single_server_main(argc, argv, &spec);
}

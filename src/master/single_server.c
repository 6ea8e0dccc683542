/*
 * single_server - one connection at a time. See server.h.
 *
 * The listening descriptor is watched by the event loop; when a client is
 * waiting, the process takes it, tells master it is busy, runs the
 * service, closes the stream and tells master it is idle again (or exits:
 * max_use reached, exit requested, master gone).
 */
#include "child_proto.h"
#include "mail_params.h"
#include "msg.h"
#include "server_internal.h"

static int serving;

static int single_is_idle(void)
{
    return !serving;
}

static void single_ready(int listen_fd)
{
    stream *client;
    int     fd;

    if (!server_may_accept() || (fd = server_accept_client(listen_fd)) < 0)
        return;
    server_report(CHILD_STATUS_BUSY);
    server_work_begins();
    serving = 1;
    client = stream_open_fd(fd, var_ipc_timeout);
    server_spec_in_use->service(client, &server_context);
    stream_close(client);
    serving = 0;
    server_count_use();
    server_work_ends();
    server_report(CHILD_STATUS_IDLE);
}

void single_server_main(int argc, char **argv, const server_spec *spec)
{
    if (spec->service == NULL)
        msg_panic("single_server_main: no service function");
    server_start(argc, argv, spec, single_is_idle);
    if (server_kind != SERVICE_INET && server_kind != SERVICE_UNIX
        && server_kind != SERVICE_PASS)
        msg_fatal("single server: unsupported service type %s",
                  server_context.service_type);
    server_run(single_ready);
}

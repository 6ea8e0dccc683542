/*
 * multi_server - many clients in one process. See server.h.
 *
 * Each client is a stream with a persistent read event. When input
 * arrives, the process tells master it is busy, calls the service (again
 * while the stream still holds buffered input and the service consumed
 * some), and reports idle. multi_server_disconnect() may be called from
 * the service or from any other callback; a client disconnected during its
 * own service call is freed when that call returns. The process counts as
 * idle (max_idle timer, exit when asked) only with no clients left.
 */
#include <stdlib.h>

#include <event2/event.h>

#include "child_proto.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "server_internal.h"

typedef struct multi_client {
    stream *stream;
    struct event *event;
    int     closed;
    struct multi_client *next;
} multi_client;

static multi_client *clients;
static size_t client_count;
static multi_client *dispatching;

static int multi_is_idle(void)
{
    return client_count == 0 && dispatching == NULL;
}

static void unlink_client(multi_client *client)
{
    for (multi_client **link = &clients; *link; link = &(*link)->next) {
        if (*link == client) {
            *link = client->next;
            return;
        }
    }
    msg_panic("multi_server: client not in list");
}

static void free_client(multi_client *client)
{
    event_free(client->event);
    free(client);
}

void multi_server_disconnect(stream *client_stream)
{
    multi_client *client = clients;

    while (client && client->stream != client_stream)
        client = client->next;
    if (client == NULL)
        msg_panic("multi_server_disconnect: unknown stream");
    event_del(client->event);
    unlink_client(client);
    client_count--;
    stream_close(client->stream);
    client->stream = NULL;
    if (client == dispatching) {
        client->closed = 1;
        return;
    }
    free_client(client);
    if (client_count == 0)
        server_work_ends();
}

static void multi_readable(evutil_socket_t fd, short what, void *context)
{
    multi_client *client = context;
    size_t  pending;

    /*
     * Clients keep their connections, so a table that changed (and cannot be
     * reopened in the chroot) must stop answers before the next request:
     * the client is dropped unread, retries, and reaches a fresh process.
     */
    if (server_tables_changed()) {
        multi_server_disconnect(client->stream);
        return;
    }
    server_report(CHILD_STATUS_BUSY);
    dispatching = client;
    do {
        pending = stream_pending(client->stream);
        server_spec_in_use->service(client->stream, &server_context);
    } while (!client->closed && stream_pending(client->stream) > 0
             && stream_pending(client->stream) != pending);
    dispatching = NULL;
    if (client->closed)
        free_client(client);
    if (client_count == 0)
        server_work_ends();
    server_report(CHILD_STATUS_IDLE);
}

static void multi_ready(int listen_fd)
{
    multi_client *client;
    int     fd;

    if (!server_may_accept() || (fd = server_accept_client(listen_fd)) < 0)
        return;
    client = xcalloc(1, sizeof(*client));
    client->stream = stream_open_fd(fd, var_ipc_timeout);
    client->event = event_new(server_event_base(), fd, EV_READ | EV_PERSIST,
                              multi_readable, client);
    event_add(client->event, NULL);
    client->next = clients;
    clients = client;
    client_count++;
    server_work_begins();
    server_count_use();
}

void multi_server_main(int argc, char **argv, const server_spec *spec)
{
    if (spec->service == NULL)
        msg_panic("multi_server_main: no service function");
    server_start(argc, argv, spec, multi_is_idle);
    if (server_kind != SERVICE_INET && server_kind != SERVICE_UNIX
        && server_kind != SERVICE_PASS)
        msg_fatal("multi server: unsupported service type %s",
                  server_context.service_type);
    server_run(multi_ready);
}

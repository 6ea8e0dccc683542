/*
 * trigger_server - woken by a few bytes. See server.h.
 *
 * fifo: the bytes waiting in the fifo; unix-dgram: one datagram; unix: one
 * connection, read until the client closes it, the buffer is full or
 * trigger_timeout passes. Empty wake-ups are ignored.
 */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "child_proto.h"
#include "mail_params.h"
#include "msg.h"
#include "server_internal.h"

static int serving;

static int trigger_is_idle(void)
{
    return !serving;
}

/* Reads one connection's bytes into buf; returns the count (0: none). */
static ssize_t read_connection(int fd, char *buf, size_t size)
{
    size_t  done = 0;

    while (done < size && fd_wait(fd, POLLIN, var_trigger_timeout) == 0) {
        ssize_t n = read(fd, buf + done, size - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t) n;
    }
    close(fd);
    return (ssize_t) done;
}

static ssize_t read_trigger(int listen_fd, char *buf, size_t size)
{
    int     fd;

    switch (server_kind) {
    case SERVICE_FIFO:
        return read(listen_fd, buf, size);
    case SERVICE_UNIX_DGRAM:
        return recv(listen_fd, buf, size, MSG_DONTWAIT);
    default:
        if ((fd = server_accept_client(listen_fd)) < 0)
            return 0;
        return read_connection(fd, buf, size);
    }
}

static void trigger_ready(int listen_fd)
{
    char    buf[SERVER_TRIGGER_MAX];
    ssize_t len;

    if (!server_may_accept() || (len = read_trigger(listen_fd, buf, sizeof(buf))) <= 0)
        return;
    server_report(CHILD_STATUS_BUSY);
    server_work_begins();
    serving = 1;
    server_spec_in_use->trigger(buf, (size_t) len, &server_context);
    serving = 0;
    server_count_use();
    server_work_ends();
    server_report(CHILD_STATUS_IDLE);
}

void trigger_server_main(int argc, char **argv, const server_spec *spec)
{
    if (spec->trigger == NULL)
        msg_panic("trigger_server_main: no trigger function");
    server_start(argc, argv, spec, trigger_is_idle);
    if (server_kind != SERVICE_FIFO && server_kind != SERVICE_UNIX
        && server_kind != SERVICE_UNIX_DGRAM)
        msg_fatal("trigger server: unsupported service type %s",
                  server_context.service_type);
    server_run(trigger_ready);
}

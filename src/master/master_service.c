/*
 * master_service - running services: endpoints, spawning decisions,
 * wake-ups, throttling and children's status records. See master.h.
 *
 * The spawning rule: master watches a service's listening endpoints only
 * while no process of it is available, it is below its process limit and
 * not throttled. A readable endpoint then means a client (or trigger)
 * waits that no process will take, so master forks one; the new process
 * counts as available until it reports busy.
 *
 * Endpoints are created as mail_owner when master runs as root (unix
 * sockets mode 0666, fifos 0622: the private/ and public/ directory modes
 * decide who gets in), so a compromised mail_owner process can never make
 * master chmod or chown a file it planted. On a reload, an endpoint whose
 * key is unchanged keeps its descriptor: its socket never closes.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "child_proto.h"
#include "htable.h"
#include "mail_params.h"
#include "master.h"
#include "mem.h"
#include "msg.h"
#include "sock.h"

#define LISTEN_BACKLOG   100
#define STATUS_READ_MAX  (CHILD_STATUS_SIZE * 64)
#define WAKEUP_REQUEST   "W"

/* Endpoints ------------------------------------------------------------- */

/* Switches the effective identity to mail_owner (begin) and back. */
static void owner_identity(int begin)
{
    if (!master_is_root)
        return;
    if (begin) {
        if (setegid(master_owner_gid) < 0 || seteuid(master_owner_uid) < 0)
            msg_fatal("cannot switch to mail_owner for socket creation: %m");
    } else if (seteuid(0) < 0 || setegid(0) < 0) {
        msg_fatal("cannot switch back to root: %m");
    }
}

static int open_endpoint(const service_def *def, const service_endpoint *ep, strbuf *why)
{
    int     fd;

    if (def->kind == SERVICE_INET) {
        fd = inet_listen(ep->host, ep->port, ep->family, LISTEN_BACKLOG);
        if (fd < 0)
            strbuf_printf(why, "bind %s port %s: %s", *ep->host ? ep->host :
                          ep->family == AF_INET6 ? "::" : "0.0.0.0", ep->port, strerror(errno));
    } else {
        owner_identity(1);
        if (def->kind == SERVICE_UNIX_DGRAM)
            fd = unix_dgram_listen(ep->path, 0666);
        else if (def->kind == SERVICE_FIFO)
            fd = fifo_listen(ep->path, 0622);
        else
            fd = unix_listen(ep->path, LISTEN_BACKLOG, 0666);
        if (fd < 0)
            strbuf_printf(why, "create %s socket %s: %s", def->type, ep->path, strerror(errno));
        owner_identity(0);
    }
    if (fd >= 0 && sock_set_nonblock(fd, 1) < 0) {
        strbuf_printf(why, "set non-blocking mode on %s: %s", ep->key, strerror(errno));
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Hands over the descriptor of an old endpoint with this key, or -1. */
static int take_endpoint(master_serv *old_list, const char *key)
{
    for (master_serv *svc = old_list; svc; svc = svc->next) {
        for (size_t i = 0; i < svc->def->endpoint_count; i++) {
            master_endpoint *ep = &svc->endpoints[i];
            int     fd = ep->fd;

            if (fd >= 0 && strcmp(ep->key, key) == 0) {
                event_free(ep->event);
                ep->event = NULL;
                ep->fd = -1;
                return fd;
            }
        }
    }
    return -1;
}

static void close_endpoints(master_serv *svc)
{
    for (size_t i = 0; i < svc->def->endpoint_count; i++) {
        master_endpoint *ep = &svc->endpoints[i];

        if (ep->event)
            event_free(ep->event);
        ep->event = NULL;
        if (ep->fd >= 0)
            close(ep->fd);
        ep->fd = -1;
    }
    svc->listening = 0;
}

void master_close_all_endpoints(void)
{
    for (master_serv *svc = master_services; svc; svc = svc->next)
        close_endpoints(svc);
}

/* Closes old endpoints that no new service keeps, so their addresses are free. */
static void close_unkept_endpoints(master_serv *old_list, const service_table *table)
{
    htable *kept = htable_new(64);

    for (size_t i = 0; i < table->count; i++)
        for (size_t j = 0; j < table->services[i]->endpoint_count; j++)
            htable_put(kept, table->services[i]->endpoints[j].key, (void *) 1, NULL);
    for (master_serv *svc = old_list; svc; svc = svc->next) {
        for (size_t i = 0; i < svc->def->endpoint_count; i++) {
            master_endpoint *ep = &svc->endpoints[i];

            if (ep->fd >= 0 && htable_get(kept, ep->key) == NULL) {
                event_free(ep->event);
                ep->event = NULL;
                close(ep->fd);
                ep->fd = -1;
            }
        }
    }
    htable_free(kept, NULL);
}

/* Spawning --------------------------------------------------------------- */

void master_service_update_listen(master_serv *svc)
{
    int     want = !master_stopping && !svc->throttled && svc->avail == 0
        && (svc->def->maxproc == 0 || svc->total < svc->def->maxproc);

    if (want == svc->listening)
        return;
    for (size_t i = 0; i < svc->def->endpoint_count; i++) {
        if (svc->endpoints[i].event == NULL)
            continue;
        if (want)
            event_add(svc->endpoints[i].event, NULL);
        else
            event_del(svc->endpoints[i].event);
    }
    svc->listening = want;
}

static void endpoint_readable(evutil_socket_t fd, short what, void *context)
{
    master_spawn((master_serv *) context);
}

static void throttle_expired(evutil_socket_t fd, short what, void *context)
{
    master_serv *svc = context;

    svc->throttled = 0;
    master_service_update_listen(svc);
}

void master_service_throttle(master_serv *svc)
{
    struct timeval tv = {.tv_sec = var_service_throttle_time };

    svc->throttled = 1;
    evtimer_add(svc->throttle_timer, &tv);
    master_service_update_listen(svc);
}

/* Wake-ups --------------------------------------------------------------- */

static void wake_unix_socket(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX };
    int     fd;

    if (strlen(path) >= sizeof(sun.sun_path))
        return;
    strcpy(sun.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return;
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == 0)
        (void) send(fd, WAKEUP_REQUEST, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    else if (msg_verbose)
        msg_info("wake up %s: %m", path);
    close(fd);
}

static void send_wakeup(master_serv *svc)
{
    const char *path = svc->def->endpoints[0].path;

    if (msg_verbose)
        msg_info("wake up service %s/%s", svc->def->name, svc->def->type);
    switch (svc->def->kind) {
    case SERVICE_FIFO:
        if (svc->endpoints[0].fd >= 0)
            (void) write(svc->endpoints[0].fd, WAKEUP_REQUEST, 1);
        break;
    case SERVICE_UNIX_DGRAM:
        (void) unix_dgram_send(path, WAKEUP_REQUEST, 1);
        break;
    case SERVICE_UNIX:
        wake_unix_socket(path);
        break;
    default:
        msg_panic("send_wakeup: service type %s has no wake-ups", svc->def->type);
    }
}

static void wakeup_due(evutil_socket_t fd, short what, void *context)
{
    master_serv *svc = context;
    struct timeval tv = {.tv_sec = svc->def->wakeup };

    if (!svc->throttled && !(svc->def->wakeup_conditional && svc->total == 0))
        send_wakeup(svc);
    evtimer_add(svc->wakeup_timer, &tv);
}

static void start_wakeups(master_serv *svc)
{
    struct timeval tv = {.tv_sec = svc->def->wakeup_conditional ? svc->def->wakeup : 0};

    if (svc->def->wakeup > 0)
        evtimer_add(svc->wakeup_timer, &tv);
}

/* Status records ----------------------------------------------------------- */

static void parse_status_input(master_serv *svc)
{
    strbuf *in = svc->status_input;
    size_t  used = 0;

    while (in->len - used >= CHILD_STATUS_SIZE) {
        const char *record = in->data + used;
        pid_t   pid;
        int     status;

        if (child_status_parse(record, CHILD_STATUS_SIZE, &pid, &status) < 0) {
            const char *nl = memchr(record, '\n', in->len - used);

            msg_warn("service %s/%s: malformed status record from a child",
                     svc->def->name, svc->def->type);
            used = nl ? (size_t) (nl - in->data) + 1 : in->len;
            continue;
        }
        used += CHILD_STATUS_SIZE;
        master_proc_status(svc, pid, status);
    }
    memmove(in->data, in->data + used, in->len - used);
    strbuf_truncate(in, in->len - used);
}

void master_service_drain_status(master_serv *svc)
{
    char    buf[STATUS_READ_MAX];
    ssize_t len;

    while ((len = read(svc->status_pipe[0], buf, sizeof(buf))) > 0) {
        strbuf_append(svc->status_input, buf, (size_t) len);
        parse_status_input(svc);
    }
}

static void status_readable(evutil_socket_t fd, short what, void *context)
{
    master_serv *svc = context;

    master_service_drain_status(svc);
    master_service_update_listen(svc);
}

/* Life cycle --------------------------------------------------------------- */

static void destroy_service(master_serv *svc)
{
    close_endpoints(svc);
    free(svc->endpoints);
    event_free(svc->status_event);
    event_free(svc->wakeup_timer);
    event_free(svc->throttle_timer);
    close(svc->status_pipe[0]);
    close(svc->status_pipe[1]);
    strbuf_free(svc->status_input);
    service_def_free(svc->def);
    free(svc);
}

static master_serv *new_service(service_def *def)
{
    master_serv *svc = xcalloc(1, sizeof(*svc));

    svc->def = def;
    svc->endpoints = xcalloc(def->endpoint_count, sizeof(master_endpoint));
    for (size_t i = 0; i < def->endpoint_count; i++) {
        svc->endpoints[i].key = def->endpoints[i].key;
        svc->endpoints[i].fd = -1;
    }
    if (pipe2(svc->status_pipe, O_CLOEXEC) < 0)
        msg_fatal("create status pipe: %m");
    sock_set_nonblock(svc->status_pipe[0], 1);
    svc->status_input = strbuf_new(CHILD_STATUS_SIZE * 2);
    svc->status_event = event_new(master_base, svc->status_pipe[0], EV_READ | EV_PERSIST,
                                  status_readable, svc);
    event_add(svc->status_event, NULL);
    svc->wakeup_timer = evtimer_new(master_base, wakeup_due, svc);
    svc->throttle_timer = evtimer_new(master_base, throttle_expired, svc);
    return svc;
}

/*
 * Builds a running service from def (which it takes over), reusing old
 * descriptors with the same key; NULL with the reason in why.
 */
static master_serv *create_service(service_def *def, master_serv *old_list,
                                      strbuf *why)
{
    master_serv *svc = new_service(def);
    strbuf *reason = strbuf_new(128);

    for (size_t i = 0; i < def->endpoint_count; i++) {
        master_endpoint *ep = &svc->endpoints[i];

        if ((ep->fd = take_endpoint(old_list, ep->key)) < 0
            && (ep->fd = open_endpoint(def, &def->endpoints[i], reason)) < 0) {
            strbuf_set(why, reason->data);
            strbuf_free(reason);
            destroy_service(svc);
            return NULL;
        }
        ep->event = event_new(master_base, ep->fd, EV_READ | EV_PERSIST,
                              endpoint_readable, svc);
    }
    strbuf_free(reason);
    return svc;
}

static master_serv *find_service(master_serv *list, const service_def *def)
{
    for (; list; list = list->next)
        if (strcmp(list->def->name, def->name) == 0 && strcmp(list->def->type, def->type) == 0)
            return list;
    return NULL;
}

/*
 * Replaces the running services with the table's. Processes of a service
 * that stays are retired (they finish and exit; new ones get the new
 * configuration); those of a removed service are told to terminate. At
 * start-up (no services yet) any failure is returned; on a reload a
 * service that cannot be set up is logged and left out.
 */
int master_apply_services(service_table *table, strbuf *why)
{
    master_serv *old_list = master_services;
    master_serv *new_list = NULL;
    master_serv **tail = &new_list;
    int     starting = old_list == NULL;

    close_unkept_endpoints(old_list, table);
    for (size_t i = 0; i < table->count; i++) {
        service_def *def = service_table_take(table, i);
        strbuf *label = strbuf_new(64);
        master_serv *svc;

        strbuf_printf(label, "%s/%s", def->name, def->type);
        if ((svc = create_service(def, old_list, why)) == NULL) {
            if (starting) {
                master_services = new_list;
                strbuf_free(label);
                return -1;
            }
            msg_warn("%s; service %s stays unavailable", why->data, label->data);
            strbuf_free(label);
            continue;
        }
        strbuf_free(label);
        *tail = svc;
        tail = &svc->next;
    }
    for (master_serv *old = old_list; old; old = old->next) {
        if (find_service(new_list, old->def))
            master_retire_children(old);
        else
            master_signal_children(old, SIGTERM);
    }
    while (old_list) {
        master_serv *next = old_list->next;

        destroy_service(old_list);
        old_list = next;
    }
    master_services = new_list;
    for (master_serv *svc = master_services; svc; svc = svc->next) {
        master_service_update_listen(svc);
        start_wakeups(svc);
    }
    return 0;
}

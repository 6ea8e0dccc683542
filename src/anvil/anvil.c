/*
 * anvil - connection count and rate service (docs/anvil.md).
 *
 * A multi server on private/anvil (master.cf: "anvil unix - - y - 1
 * anvil"), one process. Each smtpd keeps one connection and sends one
 * frame per event (docs/protocols.md, "anvil"):
 *
 *   request=connect|disconnect|message|recipient|auth|lookup ident=SERVICE:ADDR
 *   -> status=0 count=CONCURRENT rate=EVENTS_IN_THIS_WINDOW
 *
 * The counters are anvil_table.h's. Connections a client registered and
 * did not disconnect are released when that client goes away, so a
 * crashed smtpd leaves no count behind. Every anvil_rate_time_unit the
 * idents with no connection and no current window are forgotten; every
 * anvil_status_update_time, and when the process exits, the maxima are
 * logged as "statistics: ..." lines (nothing when there was no activity).
 *
 * A frame that does not parse, an unknown request, an empty ident or one
 * longer than ANVIL_IDENT_MAX, or a client holding connections for more
 * than ANVIL_CLIENT_IDENTS_MAX idents is logged as a warning and that
 * client is disconnected (its connections released).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "anvil_table.h"
#include "attr.h"
#include "htable.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "server.h"

#define ANVIL_IDENT_MAX          512    /* bytes */
#define ANVIL_CLIENT_IDENTS_MAX  1024   /* idents with connections, per client */

static anvil_table *table;
static htable *clients;                 /* stream address -> htable ident -> int* */
static strbuf *request_name;
static strbuf *ident;

/* Connections held by one client ------------------------------------------ */

static void client_key(const stream *client, char *key, size_t size)
{
    snprintf(key, size, "%p", (const void *) client);
}

static htable *held_by(const stream *client, int create)
{
    char    key[32];
    htable *held;

    client_key(client, key, sizeof(key));
    if ((held = htable_get(clients, key)) == NULL && create) {
        held = htable_new(4);
        htable_put(clients, key, held, NULL);
    }
    return held;
}

/* Records a connect or disconnect of the client; -1 when it holds too many. */
static int track_connection(const stream *client, anvil_event event)
{
    htable *held = held_by(client, event == ANVIL_EVENT_CONNECT);
    int    *count = held ? htable_get(held, ident->data) : NULL;

    if (event == ANVIL_EVENT_DISCONNECT) {
        if (count && --*count == 0)
            htable_delete(held, ident->data, free);
        return 0;
    }
    if (count == NULL) {
        if (held->used >= ANVIL_CLIENT_IDENTS_MAX)
            return -1;
        count = xcalloc(1, sizeof(*count));
        htable_put(held, ident->data, count, NULL);
    }
    ++*count;
    return 0;
}

/* The client went away: what it still held is disconnected. */
static void release_client(const stream *client)
{
    htable *held = held_by(client, 0);
    char    key[32];
    htable_entry *e = NULL;
    size_t  bucket = 0;
    anvil_counts counts;

    if (held == NULL)
        return;
    while ((e = htable_next(held, &bucket, e)) != NULL)
        for (int *count = e->value; *count > 0; --*count)
            anvil_table_update(table, ANVIL_EVENT_DISCONNECT, e->key, time(NULL), &counts);
    htable_free(held, free);
    client_key(client, key, sizeof(key));
    htable_delete(clients, key, NULL);
}

/* Timers -------------------------------------------------------------------- */

static void log_statistics(void)
{
    argv_t *lines = argv_new(8);

    anvil_table_statistics(table, lines);
    for (size_t i = 0; i < lines->count; i++)
        msg_info("%s", lines->items[i]);
    argv_free(lines);
}

static void status_timer(evutil_socket_t fd, short what, void *context)
{
    log_statistics();
}

static void expire_timer(evutil_socket_t fd, short what, void *context)
{
    size_t  left = anvil_table_expire(table, time(NULL));

    if (msg_verbose)
        msg_info("expired idle clients: %zu left", left);
}

static void every(int seconds, event_callback_fn callback)
{
    struct event *timer = event_new(server_event_base(), -1, EV_PERSIST, callback, NULL);
    struct timeval interval = {.tv_sec = seconds};

    if (timer == NULL || event_add(timer, &interval) < 0)
        msg_fatal("cannot set up a timer");
}

static void anvil_post_init(const server_ctx *ctx)
{
    table = anvil_table_new(var_anvil_rate_time_unit);
    clients = htable_new(16);
    request_name = strbuf_new(16);
    ident = strbuf_new(64);
    every(var_anvil_status_update_time, status_timer);
    every(var_anvil_rate_time_unit, expire_timer);
    atexit(log_statistics);
}

/* Requests ------------------------------------------------------------------ */

/* Reads one request; 1 read, 0 the client is done, -1 malformed (logged). */
static int read_request(stream *client, anvil_event *event)
{
    const attr_spec spec[] = {
        ATTR_STR("request", request_name),
        ATTR_STR("ident", ident),
        ATTR_END,
    };

    if (stream_peek(client) < 0)
        return 0;
    if (attr_scan(client, 0, spec) < 0) {
        msg_warn("malformed request -- disconnecting the client");
        return -1;
    }
    if (anvil_event_parse(request_name->data, event) < 0) {
        msg_warn("unknown request \"%s\" -- disconnecting the client", request_name->data);
        return -1;
    }
    if (ident->len == 0 || ident->len > ANVIL_IDENT_MAX) {
        msg_warn("bad ident length %zu -- disconnecting the client", ident->len);
        return -1;
    }
    return 1;
}

static int answer(stream *client, anvil_event event)
{
    anvil_counts counts;

    if ((event == ANVIL_EVENT_CONNECT || event == ANVIL_EVENT_DISCONNECT)
        && track_connection(client, event) < 0) {
        msg_warn("client holds connections for more than %d idents -- disconnecting it",
                 ANVIL_CLIENT_IDENTS_MAX);
        return -1;
    }
    anvil_table_update(table, event, ident->data, time(NULL), &counts);
    if (msg_verbose)
        msg_info("%s %s: count=%d rate=%d", request_name->data, ident->data, counts.count,
                 counts.rate);
    attr_put_int(client, "status", 0);
    attr_put_int(client, "count", counts.count);
    attr_put_int(client, "rate", counts.rate);
    return attr_end(client);
}

static void anvil_service(stream *client, const server_ctx *ctx)
{
    anvil_event event;

    if (read_request(client, &event) <= 0 || answer(client, event) < 0) {
        release_client(client);
        multi_server_disconnect(client);
    }
}

int     main(int argc, char **argv)
{
    static const server_spec spec = {
        .post_init = anvil_post_init,
        .service = anvil_service,
    };

    multi_server_main(argc, argv, &spec);
}

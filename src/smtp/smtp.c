/*
 * smtp - the SMTP and LMTP client (smtp(8), lmtp(8)): deliver a message
 * from the queue to the servers of its next-hop.
 *
 * A single-connection server under master, chrooted and unprivileged. One
 * delivery request per qmgr connection (delivery.h). For each request:
 * reuse the cached session for this next-hop if there is one, else find
 * the servers (smtp_addr.c) and try them in order until one takes the
 * transaction or smtp_mx_session_limit sessions were used; then the
 * smtp_fallback_relay hosts. Recipients still undecided are deferred with
 * the last failure; when no server could be reached at all, qmgr hears
 * site_failure=1 and backs off the whole destination.
 *
 * Installed twice from the same sources (src/smtp/module.mk): as "smtp"
 * and as "lmtp"; the program name selects the protocol and the parameter
 * family (smtp_* or lmtp_*).
 */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "server.h"
#include "smtp.h"

smtp_config smtp_cfg;

typedef struct attempt {
    delivery *d;
    int    *done;
    smtp_failure fail;
    int     sessions;                   /* servers that greeted us */
    strbuf *relay;                      /* last server talked to, for deferrals */
} attempt;

static size_t pending(const attempt *a)
{
    size_t  count = 0;

    for (size_t i = 0; i < a->d->req->rcpt_count; i++)
        count += !a->done[i];
    return count;
}

/*
 * Finishes the pending recipients with the failure: 5.x.x bounces. The
 * relay is the server that failed after we connected, else the last one
 * that took part of the request, else "none".
 */
static void fail_pending(attempt *a, int permanent)
{
    const char *dsn = a->fail.set ? a->fail.dsn : "4.4.1";
    const char *reason = a->fail.set ? a->fail.reason->data : "no server available";
    const char *relay = a->fail.set && a->fail.relay->len ? a->fail.relay->data : a->relay->data;
    int     bounce = permanent || dsn[0] == '5';

    for (size_t i = 0; i < a->d->req->rcpt_count; i++) {
        if (a->done[i])
            continue;
        if (bounce)
            delivery_bounced(a->d, i, relay, dsn, reason, NULL);
        else
            delivery_deferred(a->d, i, relay, dsn[0] == '5' ? "4.4.1" : dsn, reason, NULL);
        a->done[i] = 1;
    }
}

/* One transaction on a session; 1 when the request is finished. */
static int run_session(attempt *a, smtp_session *session)
{
    int     reusable;
    int     rc;

    delivery_connected(a->d);
    strbuf_set(a->relay, session->namaddr);
    rc = smtp_transaction(session, a->d, a->done, &a->fail, &reusable);
    if (rc == SMTP_TRANS_DONE) {
        smtp_session_release(session, reusable);
        return 1;
    }
    smtp_session_close(session, 0);
    return 0;
}

/* Tries the servers of one destination; 1 when the request is finished. */
static int try_destination(attempt *a, const char *dest)
{
    smtp_server_list servers = {0};
    smtp_tls_plan tls;
    int     finished = 0;

    if (smtp_tls_plan_find(dest, &tls, &a->fail) < 0
        || smtp_find_servers(dest, &servers, &a->fail) < 0) {
        smtp_tls_plan_free(&tls);
        smtp_server_list_free(&servers);
        return 0;
    }
    for (size_t i = 0; i < servers.count && !finished && pending(a); i++) {
        int     permanent;
        smtp_session *session;

        if (smtp_cfg.mx_session_limit > 0 && a->sessions >= smtp_cfg.mx_session_limit)
            break;
        session = smtp_session_open(dest, &servers.items[i], &tls, &a->fail, &permanent);
        if (session == NULL) {
            if (permanent) {
                fail_pending(a, 1);
                finished = 1;
            } else if (i + 1 < servers.count) {
                msg_info("%s", a->fail.reason->data);
            }
            continue;
        }
        a->sessions++;
        finished = run_session(a, session);
    }
    smtp_tls_plan_free(&tls);
    smtp_server_list_free(&servers);
    return finished;
}

static int try_fallback_relays(attempt *a, const char *nexthop)
{
    argv_t *relays = argv_split(smtp_cfg.fallback_relay, ARGV_LIST_DELIMITERS);
    int     finished = 0;

    if (argv_contains(relays, nexthop)) {
        argv_free(relays);
        return 0;
    }
    for (size_t i = 0; i < relays->count && !finished && pending(a); i++) {
        a->sessions = 0;
        finished = try_destination(a, relays->items[i]);
    }
    argv_free(relays);
    return finished;
}

static void deliver(stream *client, delivery *d)
{
    const char *nexthop = d->req->nexthop;
    attempt a = {.d = d,.relay = strbuf_from("none") };
    smtp_session *session;
    int     finished = 0;
    int     dest_failed = 0;

    a.done = xcalloc(d->req->rcpt_count ? d->req->rcpt_count : 1, sizeof(int));
    if ((session = smtp_session_cached(nexthop)) != NULL)
        finished = run_session(&a, session);
    if (!finished && pending(&a))
        finished = try_destination(&a, nexthop);
    if (!finished && pending(&a) && *smtp_cfg.fallback_relay)
        finished = try_fallback_relays(&a, nexthop);
    if (pending(&a)) {
        dest_failed = a.sessions == 0 && (!a.fail.set || a.fail.dsn[0] == '4');
        fail_pending(&a, 0);
    }
    delivery_finish(d, client, dest_failed, dest_failed ? a.fail.dsn : NULL,
                    dest_failed && a.fail.set ? a.fail.reason->data : NULL);
    if (a.fail.reason)
        strbuf_free(a.fail.reason);
    if (a.fail.relay)
        strbuf_free(a.fail.relay);
    strbuf_free(a.relay);
    free(a.done);
}

static void smtp_service(stream *client, const server_ctx *ctx)
{
    delivery *d = delivery_start(client);

    (void) ctx;
    if (d != NULL)
        deliver(client, d);
}

static maps_t *open_optional(const char *title, const char *value)
{
    return *value ? maps_open(title, value, MAP_FLAG_FOLD) : NULL;
}

static int address_preference(const char *value)
{
    if (strcasecmp(value, "ipv4") == 0)
        return AF_INET;
    if (strcasecmp(value, "ipv6") == 0)
        return AF_INET6;
    if (strcasecmp(value, "any") != 0)
        msg_fatal("bad address preference value: %s", value);
    return 0;
}

/* The lmtp_* or smtp_* family, as the program name says. */
static void configure(int lmtp)
{
    smtp_config *c = &smtp_cfg;

    c->lmtp = lmtp;
    c->hello_verb = lmtp ? "LHLO" : "EHLO";
#define PICK(name) (lmtp ? var_lmtp_##name : var_smtp_##name)
    c->helo_name = lmtp ? var_lmtp_lhlo_name : var_smtp_helo_name;
    c->host_lookup = dns_route_host_lookup(PICK(host_lookup));
    c->tcp_port = PICK(tcp_port);
    c->fallback_relay = PICK(fallback_relay);
    c->connect_timeout = PICK(connect_timeout);
    c->helo_timeout = lmtp ? var_lmtp_lhlo_timeout : var_smtp_helo_timeout;
    c->mail_timeout = PICK(mail_timeout);
    c->rcpt_timeout = PICK(rcpt_timeout);
    c->data_init_timeout = PICK(data_init_timeout);
    c->data_xfer_timeout = PICK(data_xfer_timeout);
    c->data_done_timeout = PICK(data_done_timeout);
    c->rset_timeout = PICK(rset_timeout);
    c->quit_timeout = PICK(quit_timeout);
    c->starttls_timeout = PICK(starttls_timeout);
    c->cache_time_limit = PICK(connection_cache_time_limit);
    c->reuse_time_limit = PICK(connection_reuse_time_limit);
    c->reuse_count_limit = PICK(connection_reuse_count_limit);
    c->mx_address_limit = PICK(mx_address_limit);
    c->mx_session_limit = PICK(mx_session_limit);
    c->line_length_limit = PICK(line_length_limit);
    c->skip_5xx_greeting = PICK(skip_5xx_greeting);
    c->randomize_addresses = PICK(randomize_addresses);
    c->address_preference = address_preference(PICK(address_preference));
    c->never_send_ehlo = lmtp ? 0 : var_smtp_never_send_ehlo;
    c->discard_keywords = argv_split(lmtp ? var_lmtp_discard_lhlo_keywords
                                     : var_smtp_discard_ehlo_keywords, ARGV_LIST_DELIMITERS);
    c->generic_maps = open_optional(lmtp ? "lmtp_generic_maps" : "smtp_generic_maps",
                                    PICK(generic_maps));
    c->header_checks = open_optional(lmtp ? "lmtp_header_checks" : "smtp_header_checks",
                                     PICK(header_checks));
#undef PICK
    if (c->host_lookup == 0)
        msg_fatal("bad %s_host_lookup value", lmtp ? "lmtp" : "smtp");
    if ((c->families = dns_route_families(var_inet_protocols)) == 0)
        msg_fatal("bad inet_protocols value: %s", var_inet_protocols);
}

static int program_is_lmtp;

static void smtp_pre_init(const server_ctx *ctx)
{
    (void) ctx;
    srandom((unsigned) time(NULL) ^ (unsigned) getpid());
    configure(program_is_lmtp);
    smtp_tls_init();
    smtp_sasl_init();
}

int main(int argc, char **argv)
{
    static const server_spec spec = {
        .pre_init = smtp_pre_init,
        .service = smtp_service,
    };
    char   *name = xstrdup(argc > 0 ? argv[0] : "smtp");

    program_is_lmtp = strcmp(basename(name), "lmtp") == 0;
    free(name);
    single_server_main(argc, argv, &spec);
}

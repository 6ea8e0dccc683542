/*
 * smtpd - the SMTP server (master.cf: smtp inet n - y - - smtpd).
 *
 * A single server (one connection per process at a time), chrooted and
 * unprivileged. Before the chroot it opens every lookup table and list it
 * will need (smtpd_tables_in_use, smtpd_check_init()); then it serves
 * sessions:
 *
 *   connect      who the client is (smtpd_peer), "connect from NAME[ADDR]",
 *                TLS at once in wrapper mode (smtpd_tls), the anvil
 *                connection limits, talk before the greeting
 *   greeting     "220 $smtpd_banner"
 *   commands     read under smtpd_timeout (smtpd_io), executed
 *                (smtpd_cmd, smtpd_data), until QUIT, a fatal reply,
 *                smtpd_hard_error_limit errors, a timeout or a lost client
 *   disconnect   "disconnect from NAME[ADDR] ehlo=1 ... commands=N/M"
 *
 * Parameters declared by other areas are read through smtpd_param() with
 * Postfix's default as fallback, so the server also runs in builds where
 * those areas are not present yet.
 *
 * Errors: configuration problems are fatal at start-up (master throttles
 * the service); everything a client does is answered and logged.
 */
#include <stdlib.h>
#include <string.h>

#include "anvil_clnt.h"
#include "config.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "server.h"
#include "smtp_data.h"
#include "smtpd.h"
#include "smtpd_check.h"

smtpd_tables smtpd_tables_in_use;

static int bare_lf_mode;
static char *double_bounce_sender;
static char *local_header_rewrite_clients;

/* A parameter's expanded value, or `fallback` when no one declared or set it. */
static char *smtpd_param(const char *name, const char *fallback)
{
    const char *raw = config_lookup_raw_or_default(name);
    strbuf *value = strbuf_new(64);

    if (config_expand(raw ? raw : fallback, value) < 0)
        msg_fatal("parameter %s: %s", name, config_last_error());
    return strbuf_steal(value);
}

const char *smtpd_double_bounce_sender(void)
{
    return double_bounce_sender;
}

const char *smtpd_local_header_rewrite_clients(void)
{
    return local_header_rewrite_clients;
}

/* A table list, or NULL when the parameter is empty. */
static maps_t *open_maps(const char *param, const char *value)
{
    return *value ? maps_open(param, value, MAP_FLAG_FOLD) : NULL;
}

static maps_t *open_other_maps(const char *param, const char *fallback)
{
    char   *value = smtpd_param(param, fallback);
    maps_t *maps = open_maps(param, value);

    free(value);
    return maps;
}

static void smtpd_pre_init(const server_ctx *ctx)
{
    smtpd_tables *t = &smtpd_tables_in_use;

    if ((bare_lf_mode = smtp_bare_lf_mode(var_smtpd_forbid_bare_newline)) < 0)
        msg_fatal("invalid smtpd_forbid_bare_newline value: \"%s\"",
                  var_smtpd_forbid_bare_newline);
    double_bounce_sender = smtpd_param("double_bounce_sender", "double-bounce");
    local_header_rewrite_clients = smtpd_param("local_header_rewrite_clients",
                                               "permit_inet_interfaces");
    t->mynetworks = addr_list_new("mynetworks", var_mynetworks);
    t->forbidden_commands = string_list_new("smtpd_forbidden_commands",
                                            var_smtpd_forbidden_commands);
    t->bare_lf_exclusions = addr_list_new("smtpd_forbid_bare_newline_exclusions",
                                          var_smtpd_forbid_bare_newline_exclusions);
    t->event_limit_exceptions = host_list_new("smtpd_client_event_limit_exceptions",
                                              var_smtpd_client_event_limit_exceptions);
    t->local_rcpt_maps = open_maps("local_recipient_maps", var_local_recipient_maps);
    t->relay_rcpt_maps = open_maps("relay_recipient_maps", var_relay_recipient_maps);
    t->rbl_reply_maps = open_maps("rbl_reply_maps", var_rbl_reply_maps);
    t->virtual_alias_maps = open_maps("virtual_alias_maps", var_virtual_alias_maps);
    t->virtual_mailbox_maps = open_maps("virtual_mailbox_maps", var_virtual_mailbox_maps);
    t->canonical_maps = open_other_maps("canonical_maps", "");
    t->rcpt_canonical_maps = open_other_maps("recipient_canonical_maps", "");
    t->discard_ehlo = argv_split(var_smtpd_discard_ehlo_keywords, ARGV_LIST_DELIMITERS);
    smtpd_tls_pre_init();
    smtpd_sasl_pre_init();
    smtpd_check_init();
}

static smtpd_state *state_new(stream *client)
{
    smtpd_state *state = xcalloc(1, sizeof(*state));

    state->client = client;
    state->addr = strbuf_new(64);
    state->port = strbuf_new(8);
    state->rfc_addr = strbuf_new(64);
    state->name = strbuf_new(64);
    state->reverse_name = strbuf_new(64);
    state->namaddr = strbuf_new(128);
    state->server_addr = strbuf_new(64);
    state->server_port = strbuf_new(8);
    state->where = "CONNECT";
    state->protocol = "SMTP";
    state->anvil_ident = strbuf_new(64);
    state->cmd = smtp_cmdline_new();
    state->reply = strbuf_new(256);
    state->mail_args = smtp_args_new();
    state->rcpt_args = smtp_args_new();
    state->redirect = strbuf_new(0);
    state->bcc = argv_new(2);
    state->prepend = argv_new(2);
    return state;
}

static void state_free(smtpd_state *state)
{
    smtpd_transaction_reset(state);
    strbuf_free(state->addr);
    strbuf_free(state->port);
    strbuf_free(state->rfc_addr);
    strbuf_free(state->name);
    strbuf_free(state->reverse_name);
    strbuf_free(state->namaddr);
    strbuf_free(state->server_addr);
    strbuf_free(state->server_port);
    strbuf_free(state->anvil_ident);
    smtp_cmdline_free(state->cmd);
    strbuf_free(state->reply);
    smtp_args_free(state->mail_args);
    smtp_args_free(state->rcpt_args);
    strbuf_free(state->redirect);
    argv_free(state->bcc);
    argv_free(state->prepend);
    free(state->rcpts);
    free(state->helo_name);
    free(state->access_denied);
    free(state->sasl_method);
    free(state->sasl_username);
    free(state);
}

static int limits_exempt(smtpd_state *state)
{
    return host_list_match(smtpd_tables_in_use.event_limit_exceptions, state->name->data,
                           state->addr->data) != 0;
}

/* smtpd_client_connection_count_limit and _rate_limit; 0 ok, -1 refused. */
static int connection_limits(smtpd_state *state, const server_ctx *ctx)
{
    int     count = 0;
    int     rate = 0;

    anvil_clnt_ident(state->anvil_ident, ctx->service_name, state->addr->data);
    if ((var_smtpd_client_connection_count_limit <= 0
         && var_smtpd_client_connection_rate_limit <= 0) || limits_exempt(state))
        return 0;
    if (anvil_clnt_request(ANVIL_CONNECT, state->anvil_ident->data, &count, &rate) < 0)
        return 0;
    state->anvil_connected = 1;
    if (var_smtpd_client_connection_count_limit > 0
        && count > var_smtpd_client_connection_count_limit) {
        msg_warn("Connection concurrency limit exceeded: %d from %s for service %s", count,
                 state->namaddr->data, ctx->service_name);
    } else if (var_smtpd_client_connection_rate_limit > 0
               && rate > var_smtpd_client_connection_rate_limit) {
        msg_warn("Connection rate limit exceeded: %d from %s for service %s", rate,
                 state->namaddr->data, ctx->service_name);
    } else {
        return 0;
    }
    smtpd_reply(state, "421 4.7.0 %s Error: too many connections from %s", var_myhostname,
                state->addr->data);
    return -1;
}

/* The client talked before the greeting; 0 go on, -1 the session ends. */
static int pre_greeting_talk(smtpd_state *state)
{
    if (!smtpd_input_pending(state))
        return 0;
    state->ill_pipelining = 1;
    msg_info("improper command pipelining after CONNECT from %s: %s", state->namaddr->data,
             smtpd_pending_text(state));
    if (!var_smtpd_forbid_unauth_pipelining)
        return 0;
    smtpd_reply(state, "554 5.5.0 Error: SMTP protocol synchronization");
    return -1;
}

/* A timeout or lost client; a client that leaves after a message without QUIT is no news. */
void smtpd_input_failed(smtpd_state *state)
{
    if (stream_timed_out(state->client)) {
        msg_info("timeout after %s from %s", state->where, state->namaddr->data);
        stream_clear_status(state->client);
        smtpd_deadline_start(state);
        smtpd_reply(state, "421 4.4.2 %s Error: timeout exceeded", var_myhostname);
    } else if (strcmp(state->where, "END-OF-MESSAGE") != 0) {
        msg_info("lost connection after %s from %s", state->where, state->namaddr->data);
    }
}

/* A command line that ended in a bare LF, under smtpd_forbid_bare_newline = reject. */
static int bare_lf_refused(smtpd_state *state)
{
    if (!(state->cmd->flags & SMTP_CMDLINE_BARE_LF) || state->bare_lf_mode != SMTP_BARE_LF_REJECT)
        return 0;
    smtpd_log_whatsup(state, "reject", "bare <LF> received");
    smtpd_reply(state, "%d 5.5.2 %s Error: bare <LF> received",
                var_smtpd_forbid_bare_newline_reject_code, var_myhostname);
    return 1;
}

static void command_loop(smtpd_state *state)
{
    while (!state->quit) {
        if (state->error_count >= var_smtpd_hard_error_limit) {
            msg_info("too many errors after %s from %s", state->where, state->namaddr->data);
            smtpd_reply(state, "421 4.7.0 %s Error: too many errors", var_myhostname);
            break;
        }
        if (smtpd_read_command(state) < 0) {
            smtpd_input_failed(state);
            break;
        }
        if (bare_lf_refused(state))
            break;
        smtpd_execute(state);
    }
}

static void session(smtpd_state *state, const server_ctx *ctx)
{
    if (smtpd_tls_wrapper_start(state) < 0 || connection_limits(state, ctx) < 0
        || pre_greeting_talk(state) < 0)
        return;
    if (!var_smtpd_delay_reject && smtpd_check_connect(state) != 0) {
        state->access_denied = xstrdup(state->reply->data);
        state->error_count++;
        smtpd_reply(state, "%s", state->access_denied);
    } else {
        smtpd_reply(state, "220 %s", var_smtpd_banner);
    }
    command_loop(state);
}

static void smtpd_service(stream *client, const server_ctx *ctx)
{
    smtpd_state *state = state_new(client);

    smtpd_io_init(state);
    smtpd_peer_init(state);
    msg_info("connect from %s", state->namaddr->data);
    state->bare_lf_mode = bare_lf_mode;
    if (bare_lf_mode == SMTP_BARE_LF_REJECT
        && addr_list_match(smtpd_tables_in_use.bare_lf_exclusions, state->addr->data) > 0)
        state->bare_lf_mode = SMTP_BARE_LF_NORMALIZE;
    session(state, ctx);
    smtpd_reply_flush(state);
    smtpd_tls_end(state);
    if (state->anvil_connected)
        anvil_clnt_request(ANVIL_DISCONNECT, state->anvil_ident->data, NULL, NULL);
    smtpd_transaction_reset(state);
    smtpd_dnsbl_forget();
    smtpd_log_disconnect(state);
    state_free(state);
}

int     main(int argc, char **argv)
{
    static const server_spec spec = {
        .pre_init = smtpd_pre_init,
        .service = smtpd_service,
    };

    single_server_main(argc, argv, &spec);
}

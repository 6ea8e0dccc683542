/*
 * smtpd_sasl - SMTP AUTH (RFC 4954) through Dovecot's authentication
 * server (sasl_dovecot.h): the AUTH command, the EHLO AUTH lines, and the
 * sender login checks.
 *
 * smtpd_sasl_pre_init() runs before the chroot. With
 * smtpd_sasl_auth_enable it insists on smtpd_sasl_type = dovecot (the only
 * implementation; anything else is fatal), parses
 * smtpd_sasl_security_options, smtpd_sasl_tls_security_options and
 * smtpd_sasl_mechanism_filter (fatal when malformed), and records
 * smtpd_sasl_path, which is relative to the queue directory smtpd is
 * chrooted in (private/auth) and is connected on first use. It also opens
 * smtpd_sasl_exceptions_networks and smtpd_sender_login_maps.
 *
 * AUTH is "active" in a session when enabled and, with smtpd_tls_auth_only,
 * only once TLS is on. smtpd_sasl_ehlo_lines() adds "AUTH mechs" (and
 * "AUTH=mechs" with broken_sasl_auth_clients) when AUTH is active, the
 * client is not in smtpd_sasl_exceptions_networks, and Dovecot offers
 * mechanisms that the security options of the moment (the _tls_ ones under
 * TLS) and the filter allow.
 *
 * smtpd_auth_cmd() is the AUTH command with Postfix 3.7's replies: 503
 * 5.5.1 for AUTH without HELO (smtpd_helo_required), not active, inside a
 * transaction or when already authenticated; 501 5.5.4 syntax; 450 4.7.1
 * beyond smtpd_client_auth_rate_limit; "334 challenge" lines answered by
 * client lines of at most smtpd_sasl_response_limit bytes ("*" cancels:
 * 501 5.7.0 Authentication aborted; longer: 500 5.5.6); then 235 2.7.0,
 * 535 5.7.8 Error: authentication failed: REASON (wrong credentials, an
 * unknown mechanism, bad base64), or 454 4.7.0 Temporary authentication
 * failure. Every failure is logged ("warning: NAMADDR: SASL PLAIN
 * authentication failed: REASON, sasl_username=USER") and counts as an
 * error, so smtpd_soft_error_limit slows a password guesser down and
 * smtpd_hard_error_limit ends its session.
 *
 * smtpd_sasl_reset() forgets the authentication (STARTTLS).
 *
 * smtpd_sasl_login_check() implements reject_sender_login_mismatch and its
 * variants: the sender (not <>) looked up in smtpd_sender_login_maps (the
 * canonical form from trivial-rewrite, virtual(5) search order) gives the
 * login names (comma or space separated) that may use it.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr_find.h"
#include "anvil_clnt.h"
#include "mail_params.h"
#include "mail_sanitize.h"
#include "mem.h"
#include "msg.h"
#include "sasl_dovecot.h"
#include "smtpd.h"
#include "smtpd_check.h"

static sasl_dovecot *auth_server;
static int plain_security;              /* SASL_SEC_* before TLS */
static int tls_security;                /* and under TLS */
static sasl_filter *mechanism_filter;

static int parse_security(const char *param, const char *value)
{
    strbuf *why = strbuf_new(32);
    int     flags;

    if (sasl_security_parse(value, &flags, why) < 0)
        msg_fatal("%s: %s", param, why->data);
    strbuf_free(why);
    return flags;
}

void smtpd_sasl_pre_init(void)
{
    strbuf *why;

    if (*var_smtpd_sender_login_maps)
        smtpd_tables_in_use.sender_login_maps =
            maps_open("smtpd_sender_login_maps", var_smtpd_sender_login_maps, MAP_FLAG_FOLD);
    if (!var_smtpd_sasl_auth_enable)
        return;
    if (strcmp(var_smtpd_sasl_type, "dovecot") != 0)
        msg_fatal("unsupported SASL server implementation: %s (smtpd_sasl_type: only "
                  "dovecot is available)", var_smtpd_sasl_type);
    plain_security = parse_security("smtpd_sasl_security_options",
                                    var_smtpd_sasl_security_options);
    tls_security = parse_security("smtpd_sasl_tls_security_options",
                                  var_smtpd_sasl_tls_security_options);
    why = strbuf_new(32);
    if ((mechanism_filter = sasl_filter_parse(var_smtpd_sasl_mechanism_filter, why)) == NULL)
        msg_fatal("smtpd_sasl_mechanism_filter: %s", why->data);
    strbuf_free(why);
    smtpd_tables_in_use.sasl_exceptions =
        host_list_new("smtpd_sasl_exceptions_networks", var_smtpd_sasl_exceptions_networks);
    auth_server = sasl_dovecot_open(var_smtpd_sasl_path, var_ipc_timeout,
                                    (size_t) var_smtpd_sasl_response_limit);
}

int smtpd_sasl_enabled(void)
{
    return var_smtpd_sasl_auth_enable;
}

static int sasl_active(const smtpd_state *state)
{
    return var_smtpd_sasl_auth_enable && (state->tls || !var_smtpd_tls_auth_only)
        && !smtpd_keyword_discarded("AUTH");
}

static int security_flags(const smtpd_state *state)
{
    return state->tls ? tls_security : plain_security;
}

void smtpd_sasl_ehlo_lines(smtpd_state *state, argv_t *lines)
{
    strbuf *mechanisms;
    strbuf *line;

    if (!sasl_active(state)
        || host_list_match(smtpd_tables_in_use.sasl_exceptions, state->name->data,
                           state->addr->data) > 0)
        return;
    mechanisms = strbuf_new(64);
    line = strbuf_new(64);
    if (sasl_dovecot_mechanisms(auth_server, security_flags(state), mechanism_filter,
                                mechanisms, line) == 0 && mechanisms->len) {
        strbuf_printf(line, "AUTH %s", mechanisms->data);
        argv_add(lines, line->data);
        if (var_broken_sasl_auth_clients) {
            strbuf_printf(line, "AUTH=%s", mechanisms->data);
            argv_add(lines, line->data);
        }
    }
    strbuf_free(mechanisms);
    strbuf_free(line);
}

void smtpd_sasl_reset(smtpd_state *state)
{
    free(state->sasl_method);
    free(state->sasl_username);
    state->sasl_method = state->sasl_username = NULL;
}

/* The checks before a conversation; 0 go on, else the reply was given. */
static int auth_allowed(smtpd_state *state, const argv_t *words)
{
    const char *refusal = NULL;

    if (var_smtpd_helo_required && state->helo_name == NULL)
        refusal = "503 5.5.1 Error: send HELO/EHLO first";
    else if (!sasl_active(state))
        refusal = "503 5.5.1 Error: authentication not enabled";
    else if (state->sender)
        refusal = "503 5.5.1 Error: MAIL transaction in progress";
    else if (state->sasl_username)
        refusal = "503 5.5.1 Error: already authenticated";
    else if (words->count < 2 || words->count > 3)
        refusal = "501 5.5.4 Syntax: AUTH mechanism";
    if (refusal) {
        smtpd_reply(state, "%s", refusal);
        return -1;
    }
    if (smtpd_rate_exceeded(state, ANVIL_AUTH, var_smtpd_client_auth_rate_limit,
                            "AUTH command")) {
        smtpd_reply(state, "450 4.7.1 Error: too many AUTH commands from %s",
                    state->addr->data);
        return -1;
    }
    return 0;
}

/* The 334 exchanges; returns the final status, or -1 when the client left or cancelled. */
static int converse(smtpd_state *state, const char *mechanism, enum sasl_status status,
                    strbuf *text)
{
    strbuf *line = strbuf_new(256);
    int     read_status;

    while (status == SASL_STATUS_CONTINUE) {
        smtpd_reply(state, "334 %s", text->data);
        if ((read_status = smtpd_read_line(state, (size_t) var_smtpd_sasl_response_limit + 2,
                                           line)) < 0) {
            sasl_dovecot_abort(auth_server);
            smtpd_input_failed(state);
            state->quit = 1;
            status = -1;
        } else if (read_status == 1) {
            sasl_dovecot_abort(auth_server);
            smtpd_reply(state, "500 5.5.6 Authentication exchange line is too long");
            status = -1;
        } else if (strcmp(line->data, "*") == 0) {
            sasl_dovecot_abort(auth_server);
            msg_warn("%s: SASL %s authentication aborted", state->namaddr->data, mechanism);
            smtpd_reply(state, "501 5.7.0 Authentication aborted");
            status = -1;
        } else {
            status = sasl_dovecot_continue(auth_server, line->data, text);
        }
    }
    explicit_bzero(line->data, line->cap);
    strbuf_free(line);
    return status;
}

static void auth_failed(smtpd_state *state, const char *mechanism, enum sasl_status status,
                        const strbuf *text)
{
    const char *reason = text->len ? text->data : "(reason unavailable)";
    const char *user = sasl_dovecot_failed_user(auth_server);

    if (status == SASL_STATUS_BAD_MECH)
        reason = "Invalid authentication mechanism";
    msg_warn("%s: SASL %s authentication failed: %s, sasl_username=%s", state->namaddr->data,
             mechanism, reason, user ? user : "(unavailable)");
    if (status == SASL_STATUS_TEMP)
        smtpd_reply(state, "454 4.7.0 Temporary authentication failure: %s", reason);
    else
        smtpd_reply(state, "535 5.7.8 Error: authentication failed: %s", reason);
}

/* Runs the conversation; the result as smtpd_auth_cmd() returns it. */
static int authenticate(smtpd_state *state, const argv_t *words)
{
    strbuf *mechanism = strbuf_from(words->items[1]);
    strbuf *text = strbuf_new(64);
    int     outcome;
    sasl_dovecot_request request = {
        .mechanism = mechanism->data,
        .initial_response = words->count == 3 ? words->items[2] : NULL,
        .service = var_smtpd_sasl_service,
        .local_address = state->server_addr->data,
        .remote_address = state->addr->data,
        .security_flags = security_flags(state),
        .filter = mechanism_filter,
        .tls_active = state->tls != NULL,
        .tls_client_verified = state->tls && state->tls_info.peer_trusted,
    };

    for (size_t i = 0; i < mechanism->len; i++)
        mechanism->data[i] = (char) toupper((unsigned char) mechanism->data[i]);
    outcome = converse(state, mechanism->data, sasl_dovecot_start(auth_server, &request, text),
                       text);
    if (outcome == SASL_STATUS_OK) {
        state->sasl_method = xstrdup(mechanism->data);
        state->sasl_username = xstrdup(text->data);
        smtpd_reply(state, "235 2.7.0 Authentication successful");
    } else if (outcome >= 0) {
        auth_failed(state, mechanism->data, (enum sasl_status) outcome, text);
    }
    strbuf_free(mechanism);
    strbuf_free(text);
    return outcome == SASL_STATUS_OK ? SMTPD_OK : SMTPD_ERROR;
}

int smtpd_auth_cmd(smtpd_state *state)
{
    argv_t *words = argv_split(state->cmd->text->data, " \t");
    int     status = SMTPD_ERROR;

    if (auth_allowed(state, words) == 0)
        status = authenticate(state, words);
    argv_free(words);
    return status;
}

/* Sender login checks ------------------------------------------------------ */

/* Is `login` among the owners (comma or space separated)? */
static int login_listed(const char *owners, const char *login)
{
    argv_t *names = argv_split(owners, ", \t");
    int     found = 0;

    for (size_t i = 0; i < names->count && !found; i++)
        found = strcasecmp(names->items[i], login) == 0;
    argv_free(names);
    return found;
}

/* The owners of a sender: MAP_OK with *owners, MAP_NOTFOUND, or MAP_ERROR. */
static int sender_owners(smtpd_state *state, const char *sender, const char **owners)
{
    const resolve_reply *reply = smtpd_resolve(state, sender);
    addr_find_opts opts = {.strategy = ADDR_FIND_VIRTUAL};

    if (reply == NULL)
        return MAP_ERROR;
    opts.domain_is_local = (reply->flags & RESOLVE_CLASS_LOCAL) != 0;
    return addr_find(smtpd_tables_in_use.sender_login_maps, reply->recipient->data, &opts,
                     owners, NULL);
}

int smtpd_sasl_login_check(check_ctx *ctx, int mode)
{
    smtpd_state *state = ctx->state;
    const char *sender = state->sender;
    const char *owners = NULL;
    check_ctx own = *ctx;
    int     status;

    if (smtpd_tables_in_use.sender_login_maps == NULL || sender == NULL || *sender == 0
        || ((mode & LOGIN_CHECK_AUTHENTICATED) == 0 && state->sasl_username)
        || ((mode & LOGIN_CHECK_UNAUTHENTICATED) == 0 && !state->sasl_username))
        return CHECK_DUNNO;
    own.class = CLASS_SENDER;
    if ((status = sender_owners(state, sender, &owners)) == MAP_ERROR)
        return smtpd_check_lookup_failure(&own, sender);
    if (state->sasl_username) {
        if ((status == MAP_NOTFOUND && (mode & LOGIN_CHECK_KNOWN_ONLY))
            || (status == MAP_OK && login_listed(owners, state->sasl_username)))
            return CHECK_DUNNO;
        return smtpd_check_reject(&own, 0, 553, "5.7.1",
                                  "<%s>: Sender address rejected: not owned by user %s",
                                  sender, state->sasl_username);
    }
    if (status == MAP_NOTFOUND)
        return CHECK_DUNNO;
    return smtpd_check_reject(&own, 0, 553, "5.7.1",
                              "<%s>: Sender address rejected: not logged in", sender);
}

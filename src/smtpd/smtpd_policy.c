/*
 * smtpd_policy - check_policy_service: the request Postfix sends to a
 * policy server (SMTPD_POLICY_README's attribute list) and the answer.
 *
 * smtpd_policy_query(state, endpoint, recipient, etrn_domain, action) fills
 * `action`
 * with the server's "action=" value, or with
 * smtpd_policy_service_default_action when the server cannot be asked
 * (logged as Postfix does: "warning: problem talking to server ENDPOINT:
 * REASON"). One client per endpoint is kept for the life of the process,
 * so a connection serves many sessions (smtpd_policy_service_max_idle,
 * _max_ttl and _request_limit decide when it is renewed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "htable.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "policy_clnt.h"
#include "smtpd.h"
#include "smtpd_check.h"

static htable *clients;

static policy_clnt *client_for(const char *endpoint)
{
    policy_clnt *pc;
    policy_limits limits = {
        .timeout = var_smtpd_policy_service_timeout,
        .max_idle = var_smtpd_policy_service_max_idle,
        .max_ttl = var_smtpd_policy_service_max_ttl,
        .try_limit = var_smtpd_policy_service_try_limit,
        .retry_delay = var_smtpd_policy_service_retry_delay,
        .request_limit = var_smtpd_policy_service_request_limit,
    };

    if (clients == NULL)
        clients = htable_new(4);
    if ((pc = htable_get(clients, endpoint)) == NULL) {
        pc = policy_clnt_new(endpoint, &limits);
        htable_put(clients, endpoint, pc, NULL);
    }
    return pc;
}

static void add(argv_t *request, const char *name, const char *value)
{
    strbuf *item = strbuf_new(64);

    strbuf_printf(item, "%s=%s", name, value ? value : "");
    argv_add(request, item->data);
    strbuf_free(item);
}

/* A value unique to this transaction, as Postfix's "instance". */
static const char *instance(smtpd_state *state)
{
    static unsigned long counter;

    if (state->instance == NULL) {
        strbuf *text = strbuf_new(32);

        strbuf_printf(text, "%lx.%lx.%lx", (unsigned long) getpid(),
                      (unsigned long) time(NULL), ++counter);
        state->instance = strbuf_steal(text);
    }
    return state->instance;
}

/* The TLS attributes; the certificate's names only when its chain verified. */
static void add_tls(argv_t *request, smtpd_state *state)
{
    const tls_session_info *info = state->tls ? &state->tls_info : NULL;
    int     trusted = info && info->peer_trusted;
    char    number[32];

    snprintf(number, sizeof(number), "%d", info ? info->cipher_usebits : 0);
    add(request, "ccert_subject", trusted ? info->peer_CN : "");
    add(request, "ccert_issuer", trusted ? info->issuer_CN : "");
    add(request, "ccert_fingerprint", info ? info->peer_cert_fprint : "");
    add(request, "ccert_pubkey_fingerprint", info ? info->peer_pkey_fprint : "");
    add(request, "encryption_protocol", info ? info->protocol : "");
    add(request, "encryption_cipher", info ? info->cipher_name : "");
    add(request, "encryption_keysize", number);
}

static argv_t *build_request(smtpd_state *state, const char *recipient,
                             const char *etrn_domain)
{
    argv_t *request = argv_new(32);
    char    number[32];

    add(request, "request", "smtpd_access_policy");
    add(request, "protocol_state", state->where);
    add(request, "protocol_name", state->protocol);
    add(request, "helo_name", state->helo_name);
    add(request, "queue_id", state->cleanup ? state->cleanup->queue_id : "");
    add(request, "sender", state->sender);
    add(request, "recipient", recipient);
    snprintf(number, sizeof(number), "%zu", state->rcpt_count);
    add(request, "recipient_count", number);
    add(request, "client_address", state->addr->data);
    add(request, "client_name", state->name->data);
    add(request, "reverse_client_name", state->reverse_name->data);
    add(request, "instance", instance(state));
    add(request, "sasl_method", state->sasl_method);
    add(request, "sasl_username", state->sasl_username);
    add(request, "sasl_sender", state->sasl_sender);
    snprintf(number, sizeof(number), "%ld", (state->mail_args->params & SMTP_PARAM_SIZE)
             && state->sender ? state->mail_args->size : 0L);
    add(request, "size", number);
    add_tls(request, state);
    add(request, "etrn_domain", etrn_domain);
    add(request, "stress", "");
    add(request, "server_address", state->server_addr->data);
    add(request, "server_port", state->server_port->data);
    add(request, "client_port", state->port->data);
    add(request, "compatibility_level", var_compatibility_level);
    add(request, "mail_version", var_mail_version);
    add(request, "policy_context", var_smtpd_policy_service_policy_context);
    return request;
}

void smtpd_policy_query(smtpd_state *state, const char *endpoint, const char *recipient,
                        const char *etrn_domain, strbuf *action)
{
    argv_t *request = build_request(state, recipient, etrn_domain);
    strbuf *why = strbuf_new(64);
    policy_clnt *pc = client_for(endpoint);

    if (policy_clnt_query(pc, request, action, why) < 0) {
        msg_warn("problem talking to server %s: %s", policy_clnt_server(pc), why->data);
        strbuf_set(action, var_smtpd_policy_service_default_action);
    }
    strbuf_free(why);
    argv_free(request);
}

/*
 * smtpd_tls - TLS in the SMTP server: the server context, STARTTLS, wrapper
 * mode (smtpd_tls_wrappermode) and client certificates.
 *
 * smtpd_tls_pre_init() runs as root before the chroot: it decides the level
 * (smtpd_tls_security_level, else the legacy smtpd_enforce_tls and
 * smtpd_use_tls; wrapper mode always means "encrypt", with the mandatory
 * protocols and ciphers), builds the server context from the key files and
 * opens tls_server_sni_maps and relay_clientcerts. Session resumption goes
 * through tlsmgr (tls_mgr.h), so that it works across smtpd processes:
 * ticket keys always, the session cache when
 * smtpd_tls_session_cache_database is set. A context that cannot be built
 * is logged ("warning: No server certs available. TLS won't be enabled",
 * or why it failed) and the server runs without TLS: STARTTLS is then not
 * offered and is answered "454 4.7.0 TLS not available due to local
 * problem". The context lives for the process.
 *
 * smtpd_starttls_cmd() is the STARTTLS command, with Postfix's replies
 * (501 5.5.4 syntax, 554 5.5.1 TLS already active, 502 5.5.1 not enabled,
 * 454 4.7.0 no context). After "220 2.0.0 Ready to start TLS" the TLS
 * library discards any plaintext the client pipelined (CVE-2011-0411) and
 * runs the handshake within smtpd_starttls_timeout; the deadline layer of
 * smtpd_io is then put over the TLS I/O, and the session forgets what it
 * learned in plaintext (HELO name, transaction, authentication), as
 * RFC 3207 says. A failed handshake ends the session ("lost connection
 * after STARTTLS from NAMADDR"), as in Postfix.
 *
 * smtpd_tls_wrapper_start() starts TLS before the greeting in wrapper mode
 * (0 go on, -1 the session ends). smtpd_tls_end() says goodbye to TLS
 * (close_notify) at the end of a session. smtpd_tls_enforced() says that
 * every command but HELO, EHLO, STARTTLS, NOOP and QUIT needs TLS ("530
 * 5.7.0 Must issue a STARTTLS command first"); smtpd_tls_offered() whether
 * EHLO lists STARTTLS now.
 *
 * smtpd_tls_cert_permitted() is permit_tls_clientcerts (the certificate's
 * or its public key's fingerprint is in relay_clientcerts; presence of the
 * certificate is enough, the fingerprint authenticates it) and, with
 * `any_trusted`, permit_tls_all_clientcerts (any certificate whose chain
 * verified). 1 permitted, 0 not, -1 table lookup failure.
 */
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"
#include "tls_mgr.h"
#include "tls_policy.h"
#include "tls_server.h"

static enum tls_level tls_level = TLS_LEV_NONE;
static tls_server_ctx *server_ctx;
static maps_t *sni_maps;

/* tls_server_sni_maps: the name, then ".parent" domains; values are base64 PEM. */
static int sni_lookup(const char *servername, strbuf *pem, void *context)
{
    const char *key = servername;
    const char *value = NULL;
    int     status = MAP_NOTFOUND;

    while (key && (status = maps_find(sni_maps, key, 0, &value)) == MAP_NOTFOUND)
        key = strchr(key + 1, '.');
    if (status == MAP_ERROR)
        return -1;
    if (status != MAP_OK)
        return 0;
    if (base64_decode(value, strlen(value), pem) < 0 || pem->len == 0) {
        msg_warn("tls_server_sni_maps: value for \"%s\" is not base64-encoded PEM data "
                 "(build the table with postmap -F)", key);
        return -1;
    }
    return 1;
}

static int key_files_configured(void)
{
    return *var_smtpd_tls_chain_files || *var_smtpd_tls_cert_file
        || *var_smtpd_tls_eccert_file || *var_smtpd_tls_dcert_file;
}

static void build_context(void)
{
    tls_server_config cfg;
    strbuf *why = strbuf_new(128);

    tls_server_config_init(&cfg, tls_level);
    cfg.ticket_keys = tls_mgr_ticket_key;
    if (*var_smtpd_tls_session_cache_database)
        cfg.cache = tls_mgr_cache_open(TLS_MGR_CACHE_SMTPD, var_smtpd_tls_session_cache_timeout);
    if ((server_ctx = tls_server_init(&cfg, why)) == NULL) {
        msg_warn("cannot initialize the TLS server: %s -- TLS won't be enabled", why->data);
        tls_scache_close(cfg.cache);
    } else if (*var_tls_server_sni_maps) {
        sni_maps = maps_open("tls_server_sni_maps", var_tls_server_sni_maps, MAP_FLAG_FOLD);
        tls_server_set_sni(server_ctx, sni_lookup, NULL);
    }
    strbuf_free(why);
}

void smtpd_tls_pre_init(void)
{
    if ((tls_level = tls_server_level()) == TLS_LEV_INVALID)
        msg_fatal("invalid smtpd_tls_security_level value: \"%s\"",
                  var_smtpd_tls_security_level);
    if (var_smtpd_tls_wrappermode)
        tls_level = TLS_LEV_ENCRYPT;
    if (*var_relay_clientcerts)
        smtpd_tables_in_use.relay_clientcerts = maps_open("relay_clientcerts",
                                                          var_relay_clientcerts, MAP_FLAG_FOLD);
    if (tls_level == TLS_LEV_NONE)
        return;
    if (!key_files_configured())
        msg_warn("No server certs available. TLS won't be enabled");
    else
        build_context();
}

int smtpd_tls_enforced(void)
{
    return tls_level >= TLS_LEV_ENCRYPT;
}

int smtpd_tls_offered(const smtpd_state *state)
{
    return server_ctx && state->tls == NULL && !smtpd_keyword_discarded("STARTTLS");
}

/* The handshake on the client stream; 0, or -1 (logged, the stream is unusable). */
static int start_tls(smtpd_state *state)
{
    state->tls = tls_server_start(server_ctx, state->client, var_smtpd_starttls_timeout,
                                  state->namaddr->data, &state->tls_info);
    if (state->tls == NULL) {
        tls_session_info_free(&state->tls_info);
        msg_info("lost connection after %s from %s", state->where, state->namaddr->data);
        state->quit = 1;
        return -1;
    }
    smtpd_io_init(state);
    return 0;
}

int smtpd_starttls_cmd(smtpd_state *state)
{
    if (smtp_cmdline_words(state->cmd) != 1) {
        smtpd_reply(state, "501 5.5.4 Syntax: STARTTLS");
        return SMTPD_ERROR;
    }
    if (state->tls) {
        smtpd_reply(state, "554 5.5.1 Error: TLS already active");
        return SMTPD_ERROR;
    }
    if (tls_level == TLS_LEV_NONE || smtpd_keyword_discarded("STARTTLS")) {
        smtpd_reply(state, "502 5.5.1 Error: command not implemented");
        return SMTPD_ERROR;
    }
    if (server_ctx == NULL) {
        smtpd_reply(state, "454 4.7.0 TLS not available due to local problem");
        return SMTPD_ERROR;
    }
    smtpd_reply(state, "220 2.0.0 Ready to start TLS");
    smtpd_reply_flush(state);
    if (start_tls(state) < 0)
        return SMTPD_ERROR;
    smtpd_transaction_reset(state);
    free(state->helo_name);
    state->helo_name = NULL;
    smtpd_sasl_reset(state);
    return SMTPD_OK;
}

int smtpd_tls_wrapper_start(smtpd_state *state)
{
    if (!var_smtpd_tls_wrappermode)
        return 0;
    if (server_ctx == NULL) {
        msg_warn("%s: TLS wrapper mode: TLS not available due to local problem",
                 state->namaddr->data);
        return -1;
    }
    return start_tls(state);
}

void smtpd_tls_end(smtpd_state *state)
{
    if (state->tls == NULL)
        return;
    (void) tls_session_stop(state->tls, state->client, 1);
    state->tls = NULL;
    tls_session_info_free(&state->tls_info);
}

int smtpd_tls_cert_permitted(smtpd_state *state, int any_trusted)
{
    const tls_session_info *info = &state->tls_info;
    maps_t *maps = smtpd_tables_in_use.relay_clientcerts;
    const char *prints[2];
    const char *value;

    if (state->tls == NULL || !info->peer_cert)
        return 0;
    if (any_trusted)
        return info->peer_trusted;
    prints[0] = info->peer_cert_fprint;
    prints[1] = info->peer_pkey_fprint;
    for (int i = 0; maps && i < 2; i++) {
        switch (maps_find(maps, prints[i], 0, &value)) {
        case MAP_OK:
            return 1;
        case MAP_ERROR:
            msg_warn("relay_clientcerts: lookup error for fingerprint '%s', "
                     "pkey fingerprint %s", prints[0], prints[1]);
            return -1;
        default:
            break;
        }
    }
    return 0;
}

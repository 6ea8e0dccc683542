/*
 * tls_verify - certificate verification: the callback that records the
 * first problem and lets the handshake finish (the security level decides
 * afterwards), and the log text for that problem in Postfix's words.
 * See tls_private.h.
 */
#include <stdlib.h>

#include <openssl/x509_vfy.h>

#include "mem.h"
#include "tls_private.h"

int tls_verify_callback(int preverify_ok, X509_STORE_CTX *store)
{
    SSL    *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    tls_session *session = ssl ? SSL_get_ex_data(ssl, tls_session_index()) : NULL;
    X509   *cert;

    if (session == NULL)
        return preverify_ok;
    if (!preverify_ok && session->verify.error == 0) {
        session->verify.error = X509_STORE_CTX_get_error(store);
        session->verify.depth = X509_STORE_CTX_get_error_depth(store);
        if ((cert = X509_STORE_CTX_get_current_cert(store)) != NULL) {
            char   *issuer = X509_NAME_oneline(X509_get_issuer_name(cert), NULL, 0);

            if (issuer) {
                session->verify.issuer = xstrdup(issuer);
                OPENSSL_free(issuer);
            }
        }
    }
    return session->fail_on_verify_error ? preverify_ok : 1;
}

void tls_verify_state_free(tls_verify_state *state)
{
    free(state->issuer);
    state->issuer = NULL;
    state->error = 0;
}

/*
 * Postfix's phrasing: a self-signed or unknown issuer is named as such;
 * other problems of the peer's own certificate say whose it was.
 */
void tls_verify_message(const tls_session *session, strbuf *out)
{
    const char *role = session->client_side ? "server" : "client";
    int     error = session->verify.error;
    int     depth = session->verify.depth;

    if (error == 0) {
        error = (int) SSL_get_verify_result(session->ssl);
        depth = 0;
    }
    switch (error) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        strbuf_printf(out, "certificate verification failed for %s: self-signed certificate",
                      session->namaddr);
        return;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        strbuf_printf(out, "certificate verification failed for %s: untrusted issuer %s",
                      session->namaddr, session->verify.issuer ? session->verify.issuer : "");
        return;
    }
    strbuf_printf(out, "%s%scertificate verification failed for %s: ",
                  depth == 0 ? role : "", depth == 0 ? " " : "", session->namaddr);
    if (error == X509_V_ERR_CERT_HAS_EXPIRED || error == X509_V_ERR_CERT_NOT_YET_VALID)
        strbuf_append_str(out, X509_verify_cert_error_string(error));
    else
        strbuf_append_printf(out, "num=%d:%s", error, X509_verify_cert_error_string(error));
}

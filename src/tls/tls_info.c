/*
 * tls_info - what an established session looks like: protocol, cipher,
 * TLS 1.3 key exchange and signatures, the peer certificate's names and
 * fingerprints; and the two texts made from it, Postfix's summary log line
 * and the Received: header lines. See tls.h.
 *
 * Certificate names are the peer's choice: they are converted to UTF-8,
 * refused (left empty, with a warning) when they hold a NUL byte or exceed
 * 64 bytes, and every byte outside printable ASCII, and the characters
 * " \ ( ) that would break a Received: header comment, becomes '?'.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "mem.h"
#include "msg.h"
#include "tls_private.h"

static char *copy_or_null(const char *text)
{
    return text ? xstrdup(text) : NULL;
}

void tls_session_info_free(tls_session_info *info)
{
    char  **strings[] = {&info->protocol, &info->cipher_name, &info->kex_name,
        &info->kex_curve, &info->server_sig_name, &info->server_sig_curve,
        &info->server_sig_digest, &info->client_sig_name, &info->client_sig_curve,
        &info->client_sig_digest, &info->peer_CN, &info->issuer_CN,
        &info->peer_cert_fprint, &info->peer_pkey_fprint, &info->verify_error,
    &info->failure_reason};

    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        free(*strings[i]);
    memset(info, 0, sizeof(*info));
}

static int name_char_safe(unsigned char ch)
{
    return ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\' && ch != '(' && ch != ')';
}

void tls_text_name(X509_NAME *name, int nid, const char *label, strbuf *out)
{
    int     index = name ? X509_NAME_get_index_by_NID(name, nid, -1) : -1;
    unsigned char *utf8 = NULL;
    int     len;

    strbuf_reset(out);
    if (index < 0)
        return;
    len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
    if (len < 0)
        return;
    if (memchr(utf8, 0, (size_t) len) != NULL)
        msg_warn("TLS: %s contains a NUL byte: ignored", label);
    else if (len > TLS_NAME_MAX)
        msg_warn("TLS: %s longer than %d bytes: ignored", label, TLS_NAME_MAX);
    else
        for (int i = 0; i < len; i++)
            strbuf_append_char(out, name_char_safe(utf8[i]) ? utf8[i] : '?');
    OPENSSL_free(utf8);
}

int tls_fingerprint(X509 *cert, int public_key, const char *digest, strbuf *out)
{
    const EVP_MD *md = EVP_get_digestbyname(digest ? digest : "");
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    int     ok;

    strbuf_reset(out);
    if (md == NULL)
        return -1;
    if (public_key) {
        unsigned char *der = NULL;
        int     der_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);

        ok = der_len > 0 && EVP_Digest(der, (size_t) der_len, buf, &len, md, NULL);
        OPENSSL_free(der);
    } else {
        ok = X509_digest(cert, md, buf, &len);
    }
    if (!ok)
        return -1;
    for (unsigned int i = 0; i < len; i++)
        strbuf_append_printf(out, "%s%02X", i ? ":" : "", buf[i]);
    return 0;
}

static void kex_info(SSL *ssl, tls_session_info *out)
{
    static const struct {
        int     nid;
        int     bits;
    } ffdhe[] = {
        {NID_ffdhe2048, 2048}, {NID_ffdhe3072, 3072}, {NID_ffdhe4096, 4096},
        {NID_ffdhe6144, 6144}, {NID_ffdhe8192, 8192},
    };
    int     nid = SSL_get_negotiated_group(ssl);

    if (nid <= 0 || OBJ_nid2sn(nid) == NULL)
        return;
    if (nid == NID_X25519 || nid == NID_X448) {
        out->kex_name = xstrdup(OBJ_nid2sn(nid));
        return;
    }
    for (size_t i = 0; i < sizeof(ffdhe) / sizeof(ffdhe[0]); i++) {
        if (nid == ffdhe[i].nid) {
            out->kex_name = xstrdup("DHE");
            out->kex_bits = ffdhe[i].bits;
            return;
        }
    }
    out->kex_name = xstrdup("ECDHE");
    out->kex_curve = xstrdup(OBJ_nid2sn(nid));
}

static const char *signature_type_name(int nid)
{
    switch (nid) {
    case EVP_PKEY_RSA: return "RSA";
    case EVP_PKEY_RSA_PSS: return "RSA-PSS";
    case EVP_PKEY_EC: return "ECDSA";
    case EVP_PKEY_ED25519: return "ED25519";
    case EVP_PKEY_ED448: return "ED448";
    case EVP_PKEY_DSA: return "DSA";
    default: return OBJ_nid2sn(nid);
    }
}

typedef struct signature_info {
    char  **name;
    char  **curve;
    int    *bits;
    char  **digest;
} signature_info;

static void signature_details(int type_nid, int digest_nid, EVP_PKEY *key,
                              const signature_info *sig)
{
    char    group[80];
    size_t  group_len = 0;

    *sig->name = copy_or_null(signature_type_name(type_nid));
    if (key && EVP_PKEY_is_a(key, "EC")
        && EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                          sizeof(group), &group_len))
        *sig->curve = xstrdup(group);
    else if (key && (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS")
                     || EVP_PKEY_is_a(key, "DSA")))
        *sig->bits = EVP_PKEY_get_bits(key);
    if (digest_nid != NID_undef && OBJ_nid2sn(digest_nid) != NULL)
        *sig->digest = xstrdup(OBJ_nid2sn(digest_nid));
}

/* Our own signature and the peer's, as server or client signature. */
static void signature_info_fill(SSL *ssl, int client_side, tls_session_info *out)
{
    signature_info server = {&out->server_sig_name, &out->server_sig_curve,
    &out->server_sig_bits, &out->server_sig_digest};
    signature_info client = {&out->client_sig_name, &out->client_sig_curve,
    &out->client_sig_bits, &out->client_sig_digest};
    X509   *peer = SSL_get0_peer_certificate(ssl);
    int     type_nid;
    int     digest_nid = NID_undef;

    if (SSL_get_signature_type_nid(ssl, &type_nid)) {
        (void) SSL_get_signature_nid(ssl, &digest_nid);
        signature_details(type_nid, digest_nid, SSL_get_privatekey(ssl),
                          client_side ? &client : &server);
    }
    digest_nid = NID_undef;
    if (peer && SSL_get_peer_signature_type_nid(ssl, &type_nid)) {
        (void) SSL_get_peer_signature_nid(ssl, &digest_nid);
        signature_details(type_nid, digest_nid, X509_get0_pubkey(peer),
                          client_side ? &server : &client);
    }
}

static void peer_info(SSL *ssl, const char *digest, tls_session_info *out)
{
    X509   *peer = SSL_get0_peer_certificate(ssl);
    strbuf *text = strbuf_new(64);

    out->peer_cert = peer != NULL;
    out->peer_trusted = peer != NULL && SSL_get_verify_result(ssl) == X509_V_OK;
    tls_text_name(peer ? X509_get_subject_name(peer) : NULL, NID_commonName,
                  "peer CommonName", text);
    out->peer_CN = xstrdup(text->data);
    tls_text_name(peer ? X509_get_issuer_name(peer) : NULL, NID_commonName,
                  "issuer CommonName", text);
    if (text->len == 0)
        tls_text_name(peer ? X509_get_issuer_name(peer) : NULL, NID_organizationName,
                      "issuer Organization", text);
    out->issuer_CN = xstrdup(text->data);
    if (peer == NULL || tls_fingerprint(peer, 0, digest, text) < 0)
        strbuf_reset(text);
    out->peer_cert_fprint = xstrdup(text->data);
    if (peer == NULL || tls_fingerprint(peer, 1, digest, text) < 0)
        strbuf_reset(text);
    out->peer_pkey_fprint = xstrdup(text->data);
    strbuf_free(text);
}

void tls_session_info_fill(tls_session *session, const char *digest, tls_session_info *out)
{
    SSL    *ssl = session->ssl;
    const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);

    out->protocol = xstrdup(SSL_get_version(ssl));
    out->cipher_name = xstrdup(cipher ? SSL_CIPHER_get_name(cipher) : "unknown");
    out->cipher_usebits = cipher ? SSL_CIPHER_get_bits(cipher, &out->cipher_algbits) : 0;
    out->resumed = SSL_session_reused(ssl);
    if (SSL_version(ssl) == TLS1_3_VERSION) {
        kex_info(ssl, out);
        signature_info_fill(ssl, session->client_side, out);
    }
    peer_info(ssl, digest, out);
}

/* " key-exchange X25519", " server-signature RSA-PSS (2048 bits) server-digest SHA256" */
static void append_kex(const tls_session_info *info, strbuf *out)
{
    if (info->kex_name == NULL)
        return;
    strbuf_append_printf(out, " key-exchange %s", info->kex_name);
    if (info->kex_curve)
        strbuf_append_printf(out, " (%s)", info->kex_curve);
    else if (info->kex_bits > 0)
        strbuf_append_printf(out, " (%d bits)", info->kex_bits);
}

static void append_signature(const char *role, const char *name, const char *curve, int bits,
                             const char *digest, strbuf *out)
{
    if (name == NULL)
        return;
    strbuf_append_printf(out, " %s-signature %s", role, name);
    if (curve)
        strbuf_append_printf(out, " (%s)", curve);
    else if (bits > 0)
        strbuf_append_printf(out, " (%d bits)", bits);
    if (digest)
        strbuf_append_printf(out, " %s-digest %s", role, digest);
}

static const char *trust_label(const tls_session_info *info)
{
    if (!info->peer_cert)
        return "Anonymous";
    if (info->peer_matched)
        return "Verified";
    return info->peer_trusted ? "Trusted" : "Untrusted";
}

void tls_session_summary(const tls_session_info *info, int client_side,
                         const char *namaddr, strbuf *out)
{
    strbuf_printf(out, "%s TLS connection established %s %s: %s with cipher %s (%d/%d bits)",
                  trust_label(info), client_side ? "to" : "from", namaddr, info->protocol,
                  info->cipher_name, info->cipher_usebits, info->cipher_algbits);
    append_kex(info, out);
    append_signature("server", info->server_sig_name, info->server_sig_curve,
                     info->server_sig_bits, info->server_sig_digest, out);
    append_signature("client", info->client_sig_name, info->client_sig_curve,
                     info->client_sig_bits, info->client_sig_digest, out);
}

/*
 * Postfix 3.7's layout:
 *	(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)
 *	 key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256
 *	 client-signature ECDSA (prime256v1) client-digest SHA256)
 *	(Client CN "name", Issuer "CA" (verified OK))
 */
void tls_received_lines(const tls_session_info *info, argv_t *lines)
{
    strbuf *line = strbuf_new(128);

    strbuf_printf(line, "\t(using %s with cipher %s (%d/%d bits)", info->protocol,
                  info->cipher_name, info->cipher_usebits, info->cipher_algbits);
    if (info->kex_name || info->server_sig_name) {
        argv_add(lines, line->data);
        strbuf_set(line, "\t");
        append_kex(info, line);
        append_signature("server", info->server_sig_name, info->server_sig_curve,
                         info->server_sig_bits, info->server_sig_digest, line);
    }
    if (info->client_sig_name) {
        argv_add(lines, line->data);
        strbuf_set(line, "\t");
        append_signature("client", info->client_sig_name, info->client_sig_curve,
                         info->client_sig_bits, info->client_sig_digest, line);
    }
    strbuf_append_char(line, ')');
    argv_add(lines, line->data);
    if (!info->ccert_requested)
        strbuf_set(line, "\t(No client certificate requested)");
    else if (!info->peer_cert)
        strbuf_set(line, "\t(Client did not present a certificate)");
    else
        strbuf_printf(line, "\t(Client CN \"%s\", Issuer \"%s\" (%s))", info->peer_CN,
                      info->issuer_CN, info->peer_trusted ? "verified OK" : "not verified");
    argv_add(lines, line->data);
    strbuf_free(line);
}

/*
 * tls_ticket - session ticket keys for the server (RFC 5077 tickets in
 * TLS 1.2, and TLS 1.3's stateless tickets).
 *
 * A ring holds the current key and the one before it. A key encrypts new
 * tickets for `lifetime` seconds (the session cache timeout) and is then
 * replaced; tickets it made stay acceptable for another `lifetime`, after
 * which the session would have expired anyway, and a ticket made with the
 * previous key is renewed with the current one. Keys are random, made in
 * this process, and wiped when the ring is freed. Encryption uses
 * tls_session_ticket_cipher (AES-256-CBC by default) with HMAC-SHA256.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "mem.h"
#include "msg.h"
#include "tls_private.h"

#define TICKET_NAME_LEN   16
#define TICKET_HMAC_LEN   32
#define TICKET_KEYS       2

typedef struct ticket_key {
    unsigned char name[TICKET_NAME_LEN];
    unsigned char cipher_key[EVP_MAX_KEY_LENGTH];
    unsigned char hmac_key[TICKET_HMAC_LEN];
    time_t  created;
} ticket_key;

struct tls_ticket_ring {
    EVP_CIPHER *cipher;
    int     lifetime;
    size_t  count;
    ticket_key keys[TICKET_KEYS];       /* newest first */
};

static int ring_index = -1;

tls_ticket_ring *tls_ticket_ring_new(const char *cipher_name, int lifetime, strbuf *why)
{
    EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, cipher_name, NULL);
    tls_ticket_ring *ring;

    if (cipher == NULL || EVP_CIPHER_get_iv_length(cipher) > EVP_MAX_IV_LENGTH
        || EVP_CIPHER_get_key_length(cipher) > EVP_MAX_KEY_LENGTH
        || EVP_CIPHER_get_mode(cipher) != EVP_CIPH_CBC_MODE) {
        EVP_CIPHER_free(cipher);
        ERR_clear_error();
        strbuf_printf(why, "invalid tls_session_ticket_cipher \"%s\": a CBC cipher is needed",
                      cipher_name);
        return NULL;
    }
    ring = xcalloc(1, sizeof(*ring));
    ring->cipher = cipher;
    ring->lifetime = lifetime > 0 ? lifetime : 1;
    return ring;
}

void tls_ticket_ring_free(tls_ticket_ring *ring)
{
    if (ring == NULL)
        return;
    OPENSSL_cleanse(ring->keys, sizeof(ring->keys));
    EVP_CIPHER_free(ring->cipher);
    free(ring);
}

static void new_key(tls_ticket_ring *ring, time_t now)
{
    if (ring->count == TICKET_KEYS)
        ring->count--;
    memmove(&ring->keys[1], &ring->keys[0], ring->count * sizeof(ticket_key));
    if (RAND_bytes(ring->keys[0].name, TICKET_NAME_LEN) <= 0
        || RAND_bytes(ring->keys[0].cipher_key, sizeof(ring->keys[0].cipher_key)) <= 0
        || RAND_bytes(ring->keys[0].hmac_key, TICKET_HMAC_LEN) <= 0)
        msg_fatal("cannot make a TLS session ticket key: no randomness");
    ring->keys[0].created = now;
    ring->count++;
}

static ticket_key *current_key(tls_ticket_ring *ring)
{
    time_t  now = tls_now();

    if (ring->count == 0 || now - ring->keys[0].created >= ring->lifetime)
        new_key(ring, now);
    return &ring->keys[0];
}

/* The key that made a ticket, while its tickets are acceptable. */
static ticket_key *find_key(tls_ticket_ring *ring, const unsigned char *name)
{
    time_t  now = tls_now();

    for (size_t i = 0; i < ring->count; i++)
        if (memcmp(ring->keys[i].name, name, TICKET_NAME_LEN) == 0
            && now - ring->keys[i].created < 2 * (time_t) ring->lifetime)
            return &ring->keys[i];
    return NULL;
}

static int set_hmac(EVP_MAC_CTX *hctx, ticket_key *key)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key->hmac_key, TICKET_HMAC_LEN),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0),
        OSSL_PARAM_construct_end(),
    };

    return EVP_MAC_CTX_set_params(hctx, params);
}

static int ticket_callback(SSL *ssl, unsigned char *name, unsigned char *iv,
                           EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int encrypt)
{
    tls_ticket_ring *ring = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ring_index);
    ticket_key *current;
    ticket_key *key;
    tls_session *session;
    int     iv_len;

    if (ring == NULL)
        return 0;
    iv_len = EVP_CIPHER_get_iv_length(ring->cipher);
    current = current_key(ring);        /* rotates first: pointers stay valid */
    if (encrypt) {
        key = current;
        memcpy(name, key->name, TICKET_NAME_LEN);
        if (RAND_bytes(iv, iv_len) <= 0
            || !EVP_EncryptInit_ex(cctx, ring->cipher, NULL, key->cipher_key, iv)
            || !set_hmac(hctx, key))
            return -1;
        return 1;
    }
    if ((key = find_key(ring, name)) == NULL)
        return 0;                       /* unknown or expired: full handshake */
    if (!EVP_DecryptInit_ex(cctx, ring->cipher, NULL, key->cipher_key, iv)
        || !set_hmac(hctx, key))
        return -1;
    if ((session = SSL_get_ex_data(ssl, tls_session_index())) != NULL)
        session->ticketed = 1;
    return key == current ? 1 : 2;
}

int tls_ticket_enable(SSL_CTX *ctx, tls_ticket_ring *ring)
{
    if (ring_index < 0
        && (ring_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL)) < 0)
        return -1;
    if (!SSL_CTX_set_ex_data(ctx, ring_index, ring)
        || !SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_callback))
        return -1;
    return 0;
}

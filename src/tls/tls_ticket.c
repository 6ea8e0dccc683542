/*
 * tls_ticket - session ticket keys: the rotating store (tls_ticket.h) and
 * the server's ticket callback (tls_private.h: a ring is a store plus the
 * ticket cipher).
 *
 * Encryption uses tls_session_ticket_cipher (AES-256-CBC by default) with
 * HMAC-SHA256; a ticket made with the previous key is renewed with the
 * current one. Keys are copied out of the store, never pointed into, so a
 * store that changes during a callback (a key arriving from the source)
 * cannot leave a dangling pointer; copies are wiped after use.
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
#include "tls_ticket.h"

#define STORE_KEYS  2                   /* the current key and the one before */

struct tls_ticket_keys {
    int     lifetime;
    tls_ticket_key_fn source;
    size_t  count;
    tls_ticket_key keys[STORE_KEYS];    /* newest first */
};

struct tls_ticket_ring {
    EVP_CIPHER *cipher;
    tls_ticket_keys *keys;
};

static int ring_index = -1;

/* The store ------------------------------------------------------------------ */

void tls_ticket_key_make(tls_ticket_key *key, time_t now)
{
    if (RAND_bytes(key->name, TLS_TICKET_NAME_LEN) <= 0
        || RAND_bytes(key->cipher_key, TLS_TICKET_CIPHER_KEY_LEN) <= 0
        || RAND_bytes(key->hmac_key, TLS_TICKET_HMAC_KEY_LEN) <= 0)
        msg_fatal("cannot make a TLS session ticket key: no randomness");
    key->created = now;
}

tls_ticket_keys *tls_ticket_keys_new(int lifetime, tls_ticket_key_fn source)
{
    tls_ticket_keys *keys = xcalloc(1, sizeof(*keys));

    keys->lifetime = lifetime > 0 ? lifetime : 1;
    keys->source = source;
    return keys;
}

void tls_ticket_keys_free(tls_ticket_keys *keys)
{
    if (keys == NULL)
        return;
    OPENSSL_cleanse(keys->keys, sizeof(keys->keys));
    free(keys);
}

/* Adds a key, newest first; the same name replaces; the oldest beyond STORE_KEYS goes. */
static void store_add(tls_ticket_keys *keys, const tls_ticket_key *key)
{
    size_t  at = 0;

    for (size_t i = 0; i < keys->count; i++) {
        if (memcmp(keys->keys[i].name, key->name, TLS_TICKET_NAME_LEN) == 0) {
            keys->keys[i] = *key;
            return;
        }
    }
    while (at < keys->count && keys->keys[at].created > key->created)
        at++;
    if (at == STORE_KEYS)
        return;
    if (keys->count == STORE_KEYS)
        keys->count--;
    memmove(&keys->keys[at + 1], &keys->keys[at], (keys->count - at) * sizeof(*key));
    keys->keys[at] = *key;
    keys->count++;
}

static int encrypts(const tls_ticket_keys *keys, const tls_ticket_key *key, time_t now)
{
    return now >= key->created && now - key->created < keys->lifetime;
}

static int decrypts(const tls_ticket_keys *keys, const tls_ticket_key *key, time_t now)
{
    return now >= key->created && now - key->created < 2 * (time_t) keys->lifetime;
}

int tls_ticket_keys_current(tls_ticket_keys *keys, tls_ticket_key *key)
{
    time_t  now = tls_now();

    if (keys->count == 0 || !encrypts(keys, &keys->keys[0], now)) {
        if (keys->source == NULL || keys->source(NULL, key) < 0 || !encrypts(keys, key, now))
            tls_ticket_key_make(key, now);
        store_add(keys, key);
    }
    *key = keys->keys[0];
    return 0;
}

int tls_ticket_keys_find(tls_ticket_keys *keys, const unsigned char *wanted,
                         tls_ticket_key *key)
{
    time_t  now = tls_now();
    unsigned char name[TLS_TICKET_NAME_LEN];

    memcpy(name, wanted, TLS_TICKET_NAME_LEN);  /* `wanted` may point into `key` */
    for (size_t i = 0; i < keys->count; i++) {
        if (memcmp(keys->keys[i].name, name, TLS_TICKET_NAME_LEN) == 0) {
            if (!decrypts(keys, &keys->keys[i], now))
                return -1;
            *key = keys->keys[i];
            return 0;
        }
    }
    if (keys->source == NULL || keys->source(name, key) < 0
        || memcmp(key->name, name, TLS_TICKET_NAME_LEN) != 0 || !decrypts(keys, key, now)) {
        OPENSSL_cleanse(key, sizeof(*key));
        return -1;
    }
    store_add(keys, key);
    return 0;
}

/* The ring: the server's ticket callback ----------------------------------- */

tls_ticket_ring *tls_ticket_ring_new(const char *cipher_name, int lifetime,
                                     tls_ticket_key_fn source, strbuf *why)
{
    EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, cipher_name, NULL);
    tls_ticket_ring *ring;

    if (cipher == NULL || EVP_CIPHER_get_iv_length(cipher) > EVP_MAX_IV_LENGTH
        || EVP_CIPHER_get_key_length(cipher) > TLS_TICKET_CIPHER_KEY_LEN
        || EVP_CIPHER_get_mode(cipher) != EVP_CIPH_CBC_MODE) {
        EVP_CIPHER_free(cipher);
        ERR_clear_error();
        strbuf_printf(why, "invalid tls_session_ticket_cipher \"%s\": a CBC cipher is needed",
                      cipher_name);
        return NULL;
    }
    ring = xcalloc(1, sizeof(*ring));
    ring->cipher = cipher;
    ring->keys = tls_ticket_keys_new(lifetime, source);
    return ring;
}

void tls_ticket_ring_free(tls_ticket_ring *ring)
{
    if (ring == NULL)
        return;
    tls_ticket_keys_free(ring->keys);
    EVP_CIPHER_free(ring->cipher);
    free(ring);
}

static int set_hmac(EVP_MAC_CTX *hctx, tls_ticket_key *key)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key->hmac_key,
                                          TLS_TICKET_HMAC_KEY_LEN),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0),
        OSSL_PARAM_construct_end(),
    };

    return EVP_MAC_CTX_set_params(hctx, params);
}

static int encrypt_ticket(tls_ticket_ring *ring, tls_ticket_key *key, unsigned char *name,
                          unsigned char *iv, EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx)
{
    memcpy(name, key->name, TLS_TICKET_NAME_LEN);
    if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(ring->cipher)) <= 0
        || !EVP_EncryptInit_ex(cctx, ring->cipher, NULL, key->cipher_key, iv)
        || !set_hmac(hctx, key))
        return -1;
    return 1;
}

/* 0: unknown or expired (full handshake), 1: valid, 2: valid, renew, -1: error. */
static int decrypt_ticket(SSL *ssl, tls_ticket_ring *ring, const tls_ticket_key *current,
                          tls_ticket_key *key, const unsigned char *name,
                          unsigned char *iv, EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx)
{
    tls_session *session;

    if (tls_ticket_keys_find(ring->keys, name, key) < 0)
        return 0;
    if (!EVP_DecryptInit_ex(cctx, ring->cipher, NULL, key->cipher_key, iv)
        || !set_hmac(hctx, key))
        return -1;
    if ((session = SSL_get_ex_data(ssl, tls_session_index())) != NULL)
        session->ticketed = 1;
    return memcmp(key->name, current->name, TLS_TICKET_NAME_LEN) == 0 ? 1 : 2;
}

static int ticket_callback(SSL *ssl, unsigned char *name, unsigned char *iv,
                           EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int encrypt)
{
    tls_ticket_ring *ring = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ring_index);
    tls_ticket_key current;
    tls_ticket_key key;
    int     result;

    if (ring == NULL)
        return 0;
    (void) tls_ticket_keys_current(ring->keys, &current);
    if (encrypt)
        result = encrypt_ticket(ring, &current, name, iv, cctx, hctx);
    else
        result = decrypt_ticket(ssl, ring, &current, &key, name, iv, cctx, hctx);
    OPENSSL_cleanse(&current, sizeof(current));
    OPENSSL_cleanse(&key, sizeof(key));
    return result;
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

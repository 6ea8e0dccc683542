/*
 * tls_ticket - session ticket keys (RFC 5077 tickets in TLS 1.2, TLS 1.3's
 * stateless tickets) and the store that rotates them.
 *
 * A key is a 16-byte name, a cipher key (a cipher of
 * tls_session_ticket_cipher uses its first bytes) and an HMAC-SHA256 key,
 * with the time it was made. A store holds the current key and the one
 * before it: the current key encrypts new tickets for `lifetime` seconds
 * (the session cache timeout) and is then replaced; a key decrypts tickets
 * for twice its lifetime, after which the session would have expired
 * anyway.
 *
 * tls_ticket_keys_new(lifetime, source) makes a store. Without a source its
 * keys are random and made in this process. With a source (smtpd: tlsmgr's
 * keys through tls_mgr_ticket_key(), so every smtpd process encrypts with
 * the same key and honours every other's tickets), the current key and
 * unknown names are asked of the source, whose answer is used while it is
 * valid; when the source cannot give a current key, a local one stands in
 * for one lifetime. tls_ticket_keys_current() copies the current key into
 * `key` (0); tls_ticket_keys_find() the key with that name while it may
 * decrypt (0), or says -1. tls_ticket_key_make() fills a fresh random key
 * (fatal without randomness). tls_ticket_keys_free() wipes the keys.
 *
 * A source returns 0 with the key (name NULL: the current one), or -1.
 */
#ifndef POSTERN_TLS_TICKET_H
#define POSTERN_TLS_TICKET_H

#include <time.h>

#define TLS_TICKET_NAME_LEN        16
#define TLS_TICKET_CIPHER_KEY_LEN  64   /* EVP_MAX_KEY_LENGTH */
#define TLS_TICKET_HMAC_KEY_LEN    32

typedef struct tls_ticket_key {
    unsigned char name[TLS_TICKET_NAME_LEN];
    unsigned char cipher_key[TLS_TICKET_CIPHER_KEY_LEN];
    unsigned char hmac_key[TLS_TICKET_HMAC_KEY_LEN];
    time_t  created;
} tls_ticket_key;

typedef int (*tls_ticket_key_fn)(const unsigned char *name, tls_ticket_key *key);

typedef struct tls_ticket_keys tls_ticket_keys;

tls_ticket_keys *tls_ticket_keys_new(int lifetime, tls_ticket_key_fn source);
int     tls_ticket_keys_current(tls_ticket_keys *keys, tls_ticket_key *key);
int     tls_ticket_keys_find(tls_ticket_keys *keys, const unsigned char *name,
                             tls_ticket_key *key);
void    tls_ticket_keys_free(tls_ticket_keys *keys);
void    tls_ticket_key_make(tls_ticket_key *key, time_t now);

#endif

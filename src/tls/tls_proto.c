/*
 * tls_proto - protocol lists, cipher grades and OpenSSL options: parsing
 * (tls.h) and applying them to a context or a connection (tls_private.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/ssl.h>

#include "argv.h"
#include "mail_params.h"
#include "tls_private.h"

static const struct protocol_name {
    const char *name;
    int     bit;
    int     version;                    /* OpenSSL's, 0: not available */
} protocol_names[] = {
    {"SSLv2", TLS_PROTOCOL_SSLv2, 0},
    {"SSLv3", TLS_PROTOCOL_SSLv3, 0},
    {"TLSv1", TLS_PROTOCOL_TLSv1, TLS1_VERSION},
    {"TLSv1.1", TLS_PROTOCOL_TLSv1_1, TLS1_1_VERSION},
    {"TLSv1.2", TLS_PROTOCOL_TLSv1_2, TLS1_2_VERSION},
    {"TLSv1.3", TLS_PROTOCOL_TLSv1_3, TLS1_3_VERSION},
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))
#define PROTOCOL_LIST_DELIMITERS ", :\t\r\n"

static int protocol_bit(const char *name)
{
    for (size_t i = 0; i < COUNT(protocol_names); i++)
        if (strcasecmp(name, protocol_names[i].name) == 0)
            return protocol_names[i].bit;
    return 0;
}

/* Every protocol from `bit` up (at_least) or down to it. */
static int protocol_bound(int bit, int at_least)
{
    return at_least ? TLS_PROTOCOL_ALL & ~(bit - 1) : (bit << 1) - 1;
}

typedef struct protocol_spec {
    int     include;
    int     exclude;
    int     bounds;
} protocol_spec;

static int protocol_word(const char *word, protocol_spec *spec, strbuf *why)
{
    int     bit;

    if (word[0] == '!') {
        spec->exclude |= protocol_bit(word + 1);       /* unknown: a newer one */
        return 0;
    }
    if (strncmp(word, ">=", 2) == 0 || strncmp(word, "<=", 2) == 0) {
        if ((bit = protocol_bit(word + 2)) == 0)
            goto bad;
        spec->bounds &= protocol_bound(bit, word[0] == '>');
        return 0;
    }
    if ((bit = protocol_bit(word)) == 0)
        goto bad;
    spec->include |= bit;
    return 0;
  bad:
    strbuf_printf(why, "invalid TLS protocol name \"%s\"", word);
    return -1;
}

int tls_protocols_parse(const char *text, int *mask, strbuf *why)
{
    argv_t *words = argv_split(text ? text : "", PROTOCOL_LIST_DELIMITERS);
    protocol_spec spec = {0, 0, TLS_PROTOCOL_ALL};
    int     result = 0;

    for (size_t i = 0; i < words->count && result == 0; i++)
        result = protocol_word(words->items[i], &spec, why);
    argv_free(words);
    if (result < 0)
        return -1;
    *mask = (spec.include ? spec.include : TLS_PROTOCOL_ALL) & spec.bounds & ~spec.exclude;
    if (*mask == 0) {
        strbuf_printf(why, "TLS protocol list \"%s\" excludes every protocol", text);
        return -1;
    }
    return 0;
}

/*
 * OpenSSL takes a range; protocols missing inside it (">=TLSv1 !TLSv1.1")
 * become SSL_OP_NO_* options. SSLv2 and SSLv3 are gone from OpenSSL 3.
 */
int tls_protocol_range(int mask, int *min_version, int *max_version,
                       unsigned long *holes, strbuf *why)
{
    static const unsigned long no_option[] = {0, 0, SSL_OP_NO_TLSv1, SSL_OP_NO_TLSv1_1,
        SSL_OP_NO_TLSv1_2, SSL_OP_NO_TLSv1_3};
    size_t  low = COUNT(protocol_names);
    size_t  high = 0;

    for (size_t i = 0; i < COUNT(protocol_names); i++) {
        if (!(mask & protocol_names[i].bit) || protocol_names[i].version == 0)
            continue;
        if (low == COUNT(protocol_names))
            low = i;
        high = i;
    }
    if (low == COUNT(protocol_names)) {
        strbuf_set(why, "no TLS protocol left that OpenSSL supports");
        return -1;
    }
    *min_version = protocol_names[low].version;
    *max_version = protocol_names[high].version;
    *holes = 0;
    for (size_t i = low; i <= high; i++)
        if (!(mask & protocol_names[i].bit))
            *holes |= no_option[i];
    return 0;
}

int tls_apply_protocols(SSL_CTX *ctx, SSL *ssl, const char *text, strbuf *why)
{
    int     mask;
    int     min_version;
    int     max_version;
    unsigned long holes;
    int     ok;

    if (tls_protocols_parse(text, &mask, why) < 0
        || tls_protocol_range(mask, &min_version, &max_version, &holes, why) < 0)
        return -1;
    if (ssl) {
        ok = SSL_set_min_proto_version(ssl, min_version)
            && SSL_set_max_proto_version(ssl, max_version);
        SSL_set_options(ssl, holes);
    } else {
        ok = SSL_CTX_set_min_proto_version(ctx, min_version)
            && SSL_CTX_set_max_proto_version(ctx, max_version);
        SSL_CTX_set_options(ctx, holes);
    }
    if (!ok)
        strbuf_printf(why, "cannot set TLS protocols \"%s\"", text);
    return ok ? 0 : -1;
}

static const char *grade_cipherlist(const char *grade)
{
    if (strcasecmp(grade, "high") == 0)
        return var_tls_high_cipherlist;
    if (strcasecmp(grade, "medium") == 0)
        return var_tls_medium_cipherlist;
    if (strcasecmp(grade, "low") == 0)
        return var_tls_low_cipherlist;
    if (strcasecmp(grade, "export") == 0)
        return var_tls_export_cipherlist;
    if (strcasecmp(grade, "null") == 0)
        return var_tls_null_cipherlist;
    return NULL;
}

int tls_cipherlist(const char *grade, const char *exclude, strbuf *out, strbuf *why)
{
    const char *list = grade ? grade_cipherlist(grade) : NULL;
    argv_t *excluded;

    if (list == NULL) {
        strbuf_printf(why, "invalid TLS cipher grade \"%s\"", grade ? grade : "");
        return -1;
    }
    strbuf_set(out, list);
    excluded = argv_split(exclude ? exclude : "", PROTOCOL_LIST_DELIMITERS);
    for (size_t i = 0; i < excluded->count; i++)
        strbuf_append_printf(out, ":!%s", excluded->items[i]);
    argv_free(excluded);
    return 0;
}

int tls_apply_ciphers(SSL_CTX *ctx, SSL *ssl, const char *grade, const char *exclude,
                      strbuf *why)
{
    strbuf *list = strbuf_new(128);
    int     ok;

    if (tls_cipherlist(grade, exclude, list, why) < 0) {
        strbuf_free(list);
        return -1;
    }
    ok = ssl ? SSL_set_cipher_list(ssl, list->data) : SSL_CTX_set_cipher_list(ctx, list->data);
    if (!ok)
        strbuf_printf(why, "invalid or empty cipher list: \"%s\"", list->data);
    strbuf_free(list);
    return ok ? 0 : -1;
}

static const struct option_name {
    const char *name;
    unsigned long option;
} option_names[] = {
    {"NO_TICKET", SSL_OP_NO_TICKET},
    {"NO_COMPRESSION", SSL_OP_NO_COMPRESSION},
    {"NO_RENEGOTIATION", SSL_OP_NO_RENEGOTIATION},
    {"LEGACY_SERVER_CONNECT", SSL_OP_LEGACY_SERVER_CONNECT},
    {"ENABLE_MIDDLEBOX_COMPAT", SSL_OP_ENABLE_MIDDLEBOX_COMPAT},
    {"PRIORITIZE_CHACHA", SSL_OP_PRIORITIZE_CHACHA},
    {"NO_SESSION_RESUMPTION_ON_RENEGOTIATION", SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION},
};

int tls_ssl_options_parse(const char *text, unsigned long *options, strbuf *why)
{
    argv_t *words = argv_split(text ? text : "", ARGV_LIST_DELIMITERS);
    int     result = 0;

    *options = 0;
    for (size_t i = 0; i < words->count && result == 0; i++) {
        size_t  j;

        for (j = 0; j < COUNT(option_names); j++)
            if (strcasecmp(words->items[i], option_names[j].name) == 0)
                break;
        if (j < COUNT(option_names)) {
            *options |= option_names[j].option;
        } else {
            strbuf_printf(why, "unknown tls_ssl_options name \"%s\"", words->items[i]);
            result = -1;
        }
    }
    argv_free(words);
    return result;
}

/*
 * As Postfix: no compression, no TLS 1.3 middlebox compatibility records
 * (SMTP needs none), unless tls_ssl_options turns them back on.
 */
int tls_apply_options(SSL_CTX *ctx, const char *text, strbuf *why)
{
    unsigned long options;

    if (tls_ssl_options_parse(text, &options, why) < 0)
        return -1;
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);
    SSL_CTX_clear_options(ctx, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
    SSL_CTX_set_options(ctx, options);
    return 0;
}

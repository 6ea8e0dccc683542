/*
 * sasl_client - PLAIN and LOGIN for the SMTP client. See sasl_client.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "mem.h"
#include "base64.h"
#include "sasl_client.h"

enum client_mech { MECH_PLAIN, MECH_LOGIN };

/* Preference order: PLAIN is the standard, LOGIN the widespread fallback. */
static const struct client_mech_info {
    const char *name;
    enum client_mech mech;
    int     properties;
} client_mechs[] = {
    {"PLAIN", MECH_PLAIN, SASL_PROP_PLAINTEXT},
    {"LOGIN", MECH_LOGIN, SASL_PROP_PLAINTEXT},
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

struct sasl_client {
    enum client_mech mech;
    strbuf *username;
    strbuf *password;
    int     steps;                      /* challenges answered so far */
    int     initial_sent;
};

int sasl_client_select(const char *offered, int security_flags,
                       const sasl_filter *filter, strbuf *mechanism, strbuf *why)
{
    argv_t *names = argv_split(offered ? offered : "", " \t");
    int     result = -1;

    for (size_t i = 0; i < COUNT(client_mechs) && result < 0; i++) {
        const struct client_mech_info *info = &client_mechs[i];

        for (size_t j = 0; j < names->count; j++) {
            if (strcasecmp(names->items[j], info->name) == 0
                && sasl_security_allows(security_flags, info->properties)
                && sasl_filter_allows(filter, info->name)) {
                strbuf_set(mechanism, info->name);
                result = 0;
                break;
            }
        }
    }
    argv_free(names);
    if (result < 0)
        strbuf_set(why, "no mechanism available");
    return result;
}

sasl_client *sasl_client_new(const char *mechanism, const char *username,
                             const char *password, strbuf *why)
{
    sasl_client *client;
    size_t  i;

    for (i = 0; i < COUNT(client_mechs); i++)
        if (strcasecmp(mechanism, client_mechs[i].name) == 0)
            break;
    if (i == COUNT(client_mechs)) {
        strbuf_printf(why, "unsupported SASL mechanism \"%s\"", mechanism);
        return NULL;
    }
    if (username == NULL || *username == 0 || password == NULL || *password == 0) {
        strbuf_set(why, "empty SASL username or password");
        return NULL;
    }
    client = xcalloc(1, sizeof(*client));
    client->mech = client_mechs[i].mech;
    client->username = strbuf_from(username);
    client->password = strbuf_from(password);
    return client;
}

/* authzid (empty), NUL, authcid, NUL, passwd: RFC 4616 section 2. */
static void plain_credentials(const sasl_client *client, strbuf *out)
{
    strbuf *message = strbuf_new(client->username->len + client->password->len + 2);

    strbuf_append_char(message, 0);
    strbuf_append(message, client->username->data, client->username->len);
    strbuf_append_char(message, 0);
    strbuf_append(message, client->password->data, client->password->len);
    strbuf_reset(out);
    base64_encode(message->data, message->len, out);
    explicit_bzero(message->data, message->len);
    strbuf_free(message);
}

int sasl_client_initial_response(sasl_client *client, strbuf *out)
{
    strbuf_reset(out);
    if (client->mech != MECH_PLAIN)
        return 0;
    plain_credentials(client, out);
    client->initial_sent = 1;
    return 1;
}

static int plain_step(sasl_client *client, const strbuf *decoded, strbuf *out, strbuf *why)
{
    if (client->initial_sent || client->steps > 0 || decoded->len != 0) {
        strbuf_set(why, "unexpected PLAIN challenge from server");
        return -1;
    }
    plain_credentials(client, out);
    return 0;
}

static int login_step(sasl_client *client, strbuf *out, strbuf *why)
{
    if (client->steps == 0) {
        strbuf_reset(out);
        base64_encode(client->username->data, client->username->len, out);
        return 0;
    }
    if (client->steps == 1) {
        strbuf_reset(out);
        base64_encode(client->password->data, client->password->len, out);
        return 0;
    }
    strbuf_set(why, "unexpected LOGIN challenge from server");
    return -1;
}

int sasl_client_step(sasl_client *client, const char *challenge, strbuf *out, strbuf *why)
{
    strbuf *decoded = strbuf_new(64);
    int     result;

    strbuf_reset(out);
    if (base64_decode(challenge, strlen(challenge), decoded) < 0) {
        strbuf_set(why, "malformed base64 in SASL challenge from server");
        result = -1;
    } else if (client->mech == MECH_PLAIN) {
        result = plain_step(client, decoded, out, why);
    } else {
        result = login_step(client, out, why);
    }
    if (result == 0)
        client->steps++;
    strbuf_free(decoded);
    return result;
}

static void wipe_free(strbuf *secret)
{
    explicit_bzero(secret->data, secret->cap);
    strbuf_free(secret);
}

void sasl_client_free(sasl_client *client)
{
    if (client == NULL)
        return;
    wipe_free(client->username);
    wipe_free(client->password);
    free(client);
}

/*
 * tls_policy - security levels, the STARTTLS decision and policy table
 * values. See tls_policy.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "mail_params.h"
#include "mem.h"
#include "tls_policy.h"

static const struct level_name {
    const char *name;
    enum tls_level level;
} level_names[] = {
    {"none", TLS_LEV_NONE},
    {"may", TLS_LEV_MAY},
    {"encrypt", TLS_LEV_ENCRYPT},
    {"dane", TLS_LEV_DANE},
    {"dane-only", TLS_LEV_DANE_ONLY},
    {"fingerprint", TLS_LEV_FPRINT},
    {"verify", TLS_LEV_VERIFY},
    {"secure", TLS_LEV_SECURE},
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

enum tls_level tls_level_lookup(const char *name)
{
    for (size_t i = 0; name && i < COUNT(level_names); i++)
        if (strcasecmp(name, level_names[i].name) == 0)
            return level_names[i].level;
    return TLS_LEV_INVALID;
}

const char *tls_level_name(enum tls_level level)
{
    for (size_t i = 0; i < COUNT(level_names); i++)
        if (level_names[i].level == level)
            return level_names[i].name;
    return "invalid";
}

enum tls_level tls_server_level(void)
{
    enum tls_level level;

    if (var_smtpd_tls_security_level && *var_smtpd_tls_security_level) {
        level = tls_level_lookup(var_smtpd_tls_security_level);
        return level > TLS_LEV_ENCRYPT ? TLS_LEV_INVALID : level;
    }
    if (var_smtpd_enforce_tls)
        return TLS_LEV_ENCRYPT;
    return var_smtpd_use_tls ? TLS_LEV_MAY : TLS_LEV_NONE;
}

enum tls_level tls_client_level(void)
{
    if (var_smtp_tls_security_level && *var_smtp_tls_security_level)
        return tls_level_lookup(var_smtp_tls_security_level);
    if (var_smtp_enforce_tls)
        return var_smtp_tls_enforce_peername ? TLS_LEV_VERIFY : TLS_LEV_ENCRYPT;
    return var_smtp_use_tls ? TLS_LEV_MAY : TLS_LEV_NONE;
}

enum tls_level tls_level_effective(enum tls_level level, int have_tlsa)
{
    return level == TLS_LEV_DANE && !have_tlsa ? TLS_LEV_MAY : level;
}

int tls_level_mandatory(enum tls_level level)
{
    return level >= TLS_LEV_ENCRYPT;
}

int tls_level_must_match(enum tls_level level)
{
    return level >= TLS_LEV_DANE;
}

enum tls_action tls_starttls_decision(enum tls_level level, int offered,
                                      const char *namaddr, strbuf *reason)
{
    if (level <= TLS_LEV_NONE)
        return TLS_ACTION_PLAINTEXT;
    if (offered)
        return TLS_ACTION_STARTTLS;
    if (!tls_level_mandatory(level))
        return TLS_ACTION_PLAINTEXT;
    strbuf_printf(reason, "TLS is required, but was not offered by host %s", namaddr);
    return TLS_ACTION_REFUSE;
}

/* Attributes, and the levels that may use them. */

static int attribute_allowed(const char *name, enum tls_level level)
{
    if (strcmp(name, "match") == 0)
        return level == TLS_LEV_FPRINT || level == TLS_LEV_VERIFY || level == TLS_LEV_SECURE;
    if (strcmp(name, "tafile") == 0)
        return level == TLS_LEV_VERIFY || level == TLS_LEV_SECURE || level == TLS_LEV_DANE
            || level == TLS_LEV_DANE_ONLY;
    return level != TLS_LEV_NONE;
}

static int set_once(char **target, const char *name, const char *value, strbuf *why)
{
    if (*target != NULL) {
        strbuf_printf(why, "duplicate attribute \"%s\"", name);
        return -1;
    }
    if (*value == 0) {
        strbuf_printf(why, "empty value for attribute \"%s\"", name);
        return -1;
    }
    *target = xstrdup(value);
    return 0;
}

static int parse_ciphers(tls_policy *policy, const char *value, strbuf *why)
{
    static const char *const grades[] = {"high", "medium", "low", "export", "null"};

    for (size_t i = 0; i < COUNT(grades); i++)
        if (strcasecmp(value, grades[i]) == 0)
            return set_once(&policy->ciphers, "ciphers", value, why);
    strbuf_printf(why, "invalid cipher grade \"%s\"", value);
    return -1;
}

static int parse_protocols(tls_policy *policy, const char *value, strbuf *why)
{
    int     mask;

    if (tls_protocols_parse(value, &mask, why) < 0)
        return -1;
    return set_once(&policy->protocols, "protocols", value, why);
}

static int parse_match(tls_policy *policy, const char *value, strbuf *why)
{
    if (policy->match != NULL) {
        strbuf_set(why, "duplicate attribute \"match\"");
        return -1;
    }
    policy->match = argv_split(value, policy->level == TLS_LEV_FPRINT ? "|" : ":");
    if (policy->match->count == 0) {
        strbuf_set(why, "empty value for attribute \"match\"");
        return -1;
    }
    return 0;
}

static int parse_boolean(int *target, const char *value, strbuf *why)
{
    if (param_parse_bool(value, target) < 0) {
        strbuf_printf(why, "invalid boolean \"%s\"", value);
        return -1;
    }
    return 0;
}

static int parse_exclude(tls_policy *policy, const char *value, strbuf *why)
{
    argv_t *ciphers = argv_split(value, ":");
    strbuf *joined = strbuf_new(64);
    int     result;

    for (size_t i = 0; i < ciphers->count; i++)
        strbuf_append_printf(joined, "%s%s", i ? ", " : "", ciphers->items[i]);
    result = set_once(&policy->exclude, "exclude", joined->data, why);
    strbuf_free(joined);
    argv_free(ciphers);
    return result;
}

static int parse_attribute(tls_policy *policy, const char *word, strbuf *why)
{
    const char *equals = strchr(word, '=');
    char   *name;
    const char *value;
    int     result;

    if (equals == NULL || equals == word) {
        strbuf_printf(why, "malformed attribute \"%s\": expected name=value", word);
        return -1;
    }
    name = xstrndup(word, (size_t) (equals - word));
    value = equals + 1;
    if (!attribute_allowed(name, policy->level)) {
        strbuf_printf(why, "attribute \"%s\" is not valid at level \"%s\"", name,
                      tls_level_name(policy->level));
        result = -1;
    } else if (strcmp(name, "ciphers") == 0) {
        result = parse_ciphers(policy, value, why);
    } else if (strcmp(name, "protocols") == 0) {
        result = parse_protocols(policy, value, why);
    } else if (strcmp(name, "exclude") == 0) {
        result = parse_exclude(policy, value, why);
    } else if (strcmp(name, "match") == 0) {
        result = parse_match(policy, value, why);
    } else if (strcmp(name, "servername") == 0) {
        result = set_once(&policy->servername, name, value, why);
    } else if (strcmp(name, "tafile") == 0) {
        result = set_once(&policy->tafile, name, value, why);
    } else if (strcmp(name, "connection_reuse") == 0) {
        result = parse_boolean(&policy->connection_reuse, value, why);
    } else {
        strbuf_printf(why, "unknown attribute \"%s\"", name);
        result = -1;
    }
    free(name);
    return result;
}

int tls_policy_parse(const char *value, tls_policy *policy, strbuf *why)
{
    argv_t *words = argv_split(value ? value : "", " \t\r\n");
    int     result = 0;

    memset(policy, 0, sizeof(*policy));
    if (words->count == 0
        || (policy->level = tls_level_lookup(words->items[0])) == TLS_LEV_INVALID) {
        strbuf_printf(why, "invalid TLS security level \"%s\"",
                      words->count ? words->items[0] : "");
        result = -1;
    }
    for (size_t i = 1; i < words->count && result == 0; i++)
        result = parse_attribute(policy, words->items[i], why);
    argv_free(words);
    if (result < 0)
        tls_policy_free(policy);
    return result;
}

void tls_policy_free(tls_policy *policy)
{
    free(policy->ciphers);
    free(policy->protocols);
    free(policy->exclude);
    free(policy->servername);
    free(policy->tafile);
    argv_free(policy->match);
    memset(policy, 0, sizeof(*policy));
    policy->level = TLS_LEV_INVALID;
}

/*
 * sasl_mech - mechanism properties, security options and filters.
 * See sasl_mech.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "mem.h"
#include "sasl_mech.h"

struct sasl_filter {
    argv_t *elements;                   /* as written, '!' included */
};

static const struct security_option {
    const char *name;
    int     flag;
} security_options[] = {
    {"noplaintext", SASL_SEC_NOPLAINTEXT},
    {"noactive", SASL_SEC_NOACTIVE},
    {"nodictionary", SASL_SEC_NODICTIONARY},
    {"noanonymous", SASL_SEC_NOANONYMOUS},
    {"mutual_auth", SASL_SEC_MUTUAL_AUTH},
    {"forward_secrecy", SASL_SEC_FORWARD_SECRECY},
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

int sasl_security_parse(const char *text, int *flags, strbuf *why)
{
    argv_t *words = argv_split(text, ARGV_LIST_DELIMITERS);
    int     result = 0;

    *flags = 0;
    for (size_t i = 0; i < words->count && result == 0; i++) {
        size_t  j;

        for (j = 0; j < COUNT(security_options); j++)
            if (strcasecmp(words->items[i], security_options[j].name) == 0)
                break;
        if (j < COUNT(security_options)) {
            *flags |= security_options[j].flag;
        } else {
            strbuf_printf(why, "unknown SASL security option \"%s\"", words->items[i]);
            result = -1;
        }
    }
    argv_free(words);
    return result;
}

int sasl_security_allows(int flags, int properties)
{
    if (properties & SASL_PROP_PRIVATE)
        return 0;
    if ((flags & SASL_SEC_NOPLAINTEXT) && (properties & SASL_PROP_PLAINTEXT))
        return 0;
    if ((flags & SASL_SEC_NOACTIVE) && (properties & SASL_PROP_ACTIVE))
        return 0;
    if ((flags & SASL_SEC_NODICTIONARY) && (properties & SASL_PROP_DICTIONARY))
        return 0;
    if ((flags & SASL_SEC_NOANONYMOUS) && (properties & SASL_PROP_ANONYMOUS))
        return 0;
    if ((flags & SASL_SEC_MUTUAL_AUTH) && !(properties & SASL_PROP_MUTUAL_AUTH))
        return 0;
    if ((flags & SASL_SEC_FORWARD_SECRECY) && !(properties & SASL_PROP_FORWARD_SECRECY))
        return 0;
    return 1;
}

int sasl_mech_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > SASL_MECH_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char    ch = name[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
            return 0;
    }
    return 1;
}

/* A filter element without its '!': a static: table or a mechanism name. */
static int filter_element_valid(const char *element, strbuf *why)
{
    if (strncasecmp(element, "static:", 7) == 0)
        return 1;
    if (strchr(element, ':') != NULL || element[0] == '/') {
        strbuf_printf(why, "unsupported SASL mechanism filter element \"%s\": "
                      "only mechanism names and static: are supported", element);
        return 0;
    }
    if (strlen(element) > SASL_MECH_NAME_MAX) {
        strbuf_printf(why, "invalid SASL mechanism name \"%s\" in filter", element);
        return 0;
    }
    return 1;
}

sasl_filter *sasl_filter_parse(const char *text, strbuf *why)
{
    sasl_filter *filter = xmalloc(sizeof(*filter));

    filter->elements = argv_split(text ? text : "", ARGV_LIST_DELIMITERS);
    for (size_t i = 0; i < filter->elements->count; i++) {
        const char *element = filter->elements->items[i];

        if (element[0] == '!')
            element++;
        if (!filter_element_valid(element, why)) {
            sasl_filter_free(filter);
            return NULL;
        }
    }
    return filter;
}

int sasl_filter_allows(const sasl_filter *filter, const char *mechanism)
{
    if (filter == NULL || filter->elements->count == 0)
        return 1;
    for (size_t i = 0; i < filter->elements->count; i++) {
        const char *element = filter->elements->items[i];
        int     negated = element[0] == '!';

        if (negated)
            element++;
        if (strncasecmp(element, "static:", 7) == 0 || strcasecmp(element, mechanism) == 0)
            return !negated;
    }
    return 0;
}

void sasl_filter_free(sasl_filter *filter)
{
    if (filter == NULL)
        return;
    argv_free(filter->elements);
    free(filter);
}

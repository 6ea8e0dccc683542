/*
 * sasl_mech - SASL mechanism names, security properties and filters, shared
 * by the SMTP server (sasl_dovecot) and the SMTP client (sasl_client).
 *
 * Security options are Postfix's: smtpd_sasl_security_options,
 * smtp_sasl_security_options and their _tls_ variants, a list of
 * noplaintext, noactive, nodictionary, noanonymous, mutual_auth and
 * forward_secrecy. sasl_security_parse() turns the list into SASL_SEC_*
 * bits (0 ok; -1 with the offending word in `why`). A mechanism's properties
 * are SASL_PROP_* bits (the Dovecot MECH line says them; the client knows
 * its own); sasl_security_allows() tells whether options permit them.
 *
 * Mechanism filters are smtpd_sasl_mechanism_filter and
 * smtp_sasl_mechanism_filter: a list whose first matching element decides,
 * a mechanism that matches no element is excluded, and an empty list lets
 * everything through. Elements are a mechanism name (case-insensitive),
 * "static:anything" (matches every name), either one prefixed with '!' to
 * exclude. Other "type:table" and "/file/name" elements need the lookup
 * tables library and are refused with a reason in `why`.
 * sasl_filter_parse() returns a filter owned by the caller
 * (sasl_filter_free()), or NULL on error.
 *
 * sasl_mech_name_valid() checks RFC 4422 syntax: 1-20 characters from
 * A-Z, 0-9, '-' and '_'.
 */
#ifndef POSTERN_SASL_MECH_H
#define POSTERN_SASL_MECH_H

#include "strbuf.h"

#define SASL_MECH_NAME_MAX      20

#define SASL_SEC_NOPLAINTEXT    (1 << 0)
#define SASL_SEC_NOACTIVE       (1 << 1)
#define SASL_SEC_NODICTIONARY   (1 << 2)
#define SASL_SEC_NOANONYMOUS    (1 << 3)
#define SASL_SEC_MUTUAL_AUTH    (1 << 4)
#define SASL_SEC_FORWARD_SECRECY (1 << 5)

#define SASL_PROP_PLAINTEXT     (1 << 0)
#define SASL_PROP_ACTIVE        (1 << 1)
#define SASL_PROP_DICTIONARY    (1 << 2)
#define SASL_PROP_ANONYMOUS     (1 << 3)
#define SASL_PROP_MUTUAL_AUTH   (1 << 4)
#define SASL_PROP_FORWARD_SECRECY (1 << 5)
#define SASL_PROP_PRIVATE       (1 << 6)   /* never advertised */

typedef struct sasl_filter sasl_filter;

int     sasl_security_parse(const char *text, int *flags, strbuf *why);
int     sasl_security_allows(int flags, int properties);

sasl_filter *sasl_filter_parse(const char *text, strbuf *why);
int     sasl_filter_allows(const sasl_filter *filter, const char *mechanism);
void    sasl_filter_free(sasl_filter *filter);

int     sasl_mech_name_valid(const char *name, size_t len);

#endif

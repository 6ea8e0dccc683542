/*
 * qmgr_policy - the queue manager's pure decisions. See qmgr.h.
 *
 * qmgr_backoff() is the delay before the next attempt: the message's age,
 * kept between minimal_backoff_time and maximal_backoff_time. Each attempt
 * roughly doubles the age, so the delays grow exponentially up to the
 * maximum.
 *
 * qmgr_lifetime() is how long a message may stay queued: bounce_queue_lifetime
 * (never more than maximal_queue_lifetime) for notifications (null sender or
 * the double bounce sender), else maximal_queue_lifetime.
 *
 * qmgr_queue_name() names a destination of a transport: the lowercased next
 * hop, or with a recipient limit of 1 (concurrency per recipient, as the
 * local transport has it) "nexthop!recipient".
 *
 * qmgr_transport_setting() and qmgr_transport_time_setting() read
 * "<transport>_<suffix>" from main.cf (or a declared default such as
 * local_destination_concurrency_limit), $-expanded; `fallback` when it is
 * not set or not a number (warned).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "mail_params.h"
#include "msg.h"
#include "qmgr.h"

int qmgr_backoff(time_t arrival, time_t now, int min_backoff, int max_backoff)
{
    time_t  age = now - arrival;

    if (max_backoff < min_backoff)
        max_backoff = min_backoff;
    if (age < min_backoff)
        return min_backoff;
    if (age > max_backoff)
        return max_backoff;
    return (int) age;
}

int qmgr_lifetime(const char *sender, const char *double_bounce, int max_lifetime,
                  int bounce_lifetime)
{
    if (*sender == 0 || strcasecmp(sender, double_bounce) == 0)
        return bounce_lifetime < max_lifetime ? bounce_lifetime : max_lifetime;
    return max_lifetime;
}

static void append_lowercase(strbuf *out, const char *text)
{
    for (const char *cp = text; *cp; cp++)
        strbuf_append_char(out, tolower((unsigned char) *cp));
}

void qmgr_queue_name(strbuf *out, const char *nexthop, const char *recipient,
                     int recipient_limit)
{
    strbuf_reset(out);
    append_lowercase(out, nexthop);
    if (recipient_limit == 1) {
        strbuf_append_char(out, '!');
        append_lowercase(out, recipient);
    }
}

/* The expanded value of <transport>_<suffix>, or NULL when not set. */
static const char *transport_value(const char *transport, const char *suffix, strbuf *value)
{
    strbuf *name = strbuf_new(64);
    const char *result = NULL;

    strbuf_printf(name, "%s_%s", transport, suffix);
    if (config_lookup_raw_or_default(name->data) != NULL && config_eval(name->data, value) == 0)
        result = value->data;
    strbuf_free(name);
    return result;
}

int qmgr_transport_setting(const char *transport, const char *suffix, int fallback)
{
    strbuf *value = strbuf_new(16);
    const char *text = transport_value(transport, suffix, value);
    long    number = fallback;

    if (text && (param_parse_long(text, &number) < 0 || number < 0 || number > 1000000)) {
        msg_warn("bad %s_%s value \"%s\"; using %d", transport, suffix, text, fallback);
        number = fallback;
    }
    strbuf_free(value);
    return (int) number;
}

int qmgr_transport_time_setting(const char *transport, const char *suffix, int fallback)
{
    strbuf *value = strbuf_new(16);
    const char *text = transport_value(transport, suffix, value);
    long    number = fallback;

    if (text && param_parse_time(text, 's', &number) < 0) {
        msg_warn("bad %s_%s value \"%s\"; using %ds", transport, suffix, text, fallback);
        number = fallback;
    }
    strbuf_free(value);
    return (int) number;
}

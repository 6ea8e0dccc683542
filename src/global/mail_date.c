/*
 * mail_date - RFC 5322 dates and Message-ID values. See mail_date.h.
 */
#include <stdlib.h>
#include <string.h>

#include "mail_addr.h"
#include "mail_date.h"
#include "msg.h"

static const char *const day_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const month_names[] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* A zone abbreviation fit for a comment: letters, digits, '+', '-'. */
static int zone_name_usable(const char *zone)
{
    if (zone == NULL || *zone == 0)
        return 0;
    for (const char *cp = zone; *cp; cp++)
        if (!((*cp >= 'A' && *cp <= 'Z') || (*cp >= 'a' && *cp <= 'z')
              || (*cp >= '0' && *cp <= '9') || *cp == '+' || *cp == '-'))
            return 0;
    return 1;
}

void mail_date_format(strbuf *out, time_t when)
{
    struct tm tm;
    long    offset_minutes;
    long    magnitude;

    if (localtime_r(&when, &tm) == NULL)
        msg_panic("mail_date_format: time %lld out of range", (long long) when);
    offset_minutes = tm.tm_gmtoff / 60;
    magnitude = labs(offset_minutes);
    strbuf_append_printf(out, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
                         day_names[tm.tm_wday], tm.tm_mday, month_names[tm.tm_mon],
                         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
                         offset_minutes < 0 ? '-' : '+', magnitude / 60, magnitude % 60);
    if (zone_name_usable(tm.tm_zone))
        strbuf_append_printf(out, " (%s)", tm.tm_zone);
}

/* ASCII dot-atom-text: atext runs separated by single dots. */
static int is_dot_atom(const char *text)
{
    for (const char *cp = text; *cp; cp++)
        if ((unsigned char) *cp >= 0x80)
            return 0;
    return mail_addr_local_is_dot_atom(text, strlen(text));
}

int message_id_format(strbuf *out, time_t when, const char *queue_id, const char *hostname)
{
    struct tm tm;

    if (!is_dot_atom(queue_id) || !is_dot_atom(hostname))
        return -1;
    if (gmtime_r(&when, &tm) == NULL)
        msg_panic("message_id_format: time %lld out of range", (long long) when);
    strbuf_append_printf(out, "<%04d%02d%02d%02d%02d%02d.%s@%s>",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                         tm.tm_hour, tm.tm_min, tm.tm_sec, queue_id, hostname);
    return 0;
}

/*
 * maildrop - the records of a maildrop file. See maildrop.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "maildrop.h"
#include "record.h"

typedef struct maildrop_attr {
    const char *name;
    int     (*valid)(const char *value);
} maildrop_attr;

static int envid_valid(const char *value)
{
    size_t  len = strlen(value);

    if (len == 0 || len > MAILDROP_ENVID_MAX)
        return 0;
    for (const unsigned char *cp = (const unsigned char *) value; *cp; cp++)
        if (*cp <= 0x20 || *cp >= 0x7f)
            return 0;
    return 1;
}

static int ret_valid(const char *value)
{
    return strcmp(value, "1") == 0 || strcmp(value, "2") == 0;
}

static int notify_attr_valid(const char *value)
{
    int     flags;

    return maildrop_notify_valid(value, &flags);
}

static int encoding_valid(const char *value)
{
    return strcmp(value, "7bit") == 0 || strcmp(value, "8bitmime") == 0;
}

static int extract_valid(const char *value)
{
    return strcmp(value, "1") == 0;
}

static const maildrop_attr attributes[] = {
    {MAILDROP_ATTR_ENVID, envid_valid},
    {MAILDROP_ATTR_RET, ret_valid},
    {MAILDROP_ATTR_NOTIFY, notify_attr_valid},
    {MAILDROP_ATTR_ENCODING, encoding_valid},
    {MAILDROP_ATTR_EXTRACT, extract_valid},
};

#define ATTRIBUTE_COUNT (sizeof(attributes) / sizeof(attributes[0]))

int     maildrop_notify_valid(const char *text, int *flags)
{
    long    value = 0;

    if (*text == 0 || strlen(text) > 2)
        return 0;
    for (const char *cp = text; *cp; cp++) {
        if (!isdigit((unsigned char) *cp))
            return 0;
        value = value * 10 + (*cp - '0');
    }
    if (value <= 0 || (value & ~DSN_NOTIFY_ANY)
        || ((value & DSN_NOTIFY_NEVER) && value != DSN_NOTIFY_NEVER))
        return 0;
    *flags = (int) value;
    return 1;
}

void    maildrop_check_init(maildrop_check *check, int flags)
{
    memset(check, 0, sizeof(*check));
    check->stage = (flags & MAILDROP_INPUT) ? MAILDROP_STAGE_ATTR : MAILDROP_STAGE_TIME;
    check->sender = strbuf_new(64);
}

void    maildrop_check_free(maildrop_check *check)
{
    strbuf_free(check->sender);
    check->sender = NULL;
}

static int fail(strbuf *why, const char *text, int type)
{
    strbuf_printf(why, "%s (record type '%c')", text, isprint(type) ? type : '?');
    return -1;
}

/* Text without NUL or control characters, at most `max` bytes. */
static int clean_text(const strbuf *data, size_t max)
{
    return data->len <= max && strbuf_is_clean_text(data);
}

static int check_time(maildrop_check *check, const strbuf *data, strbuf *why)
{
    const char *cp = data->data;
    long    seconds = 0;
    long    micros = 0;
    int     digits;

    for (digits = 0; isdigit((unsigned char) *cp) && digits < 12; digits++)
        seconds = seconds * 10 + (*cp++ - '0');
    if (digits == 0 || *cp++ != '.')
        return fail(why, "bad arrival time", REC_TYPE_TIME);
    for (digits = 0; isdigit((unsigned char) *cp) && digits < 6; digits++)
        micros = micros * 10 + (*cp++ - '0');
    if (digits != 6 || cp != data->data + data->len)
        return fail(why, "bad arrival time", REC_TYPE_TIME);
    check->arrival.tv_sec = seconds;
    check->arrival.tv_usec = micros;
    check->stage = MAILDROP_STAGE_ATTR;
    return 0;
}

static int check_attribute(maildrop_check *check, const strbuf *data, strbuf *why)
{
    const char *eq = memchr(data->data, '=', data->len);

    if (eq == NULL || !clean_text(data, MAILDROP_ADDRESS_MAX))
        return fail(why, "bad attribute", REC_TYPE_ATTR);
    for (size_t i = 0; i < ATTRIBUTE_COUNT; i++) {
        if (strlen(attributes[i].name) != (size_t) (eq - data->data)
            || strncmp(attributes[i].name, data->data, (size_t) (eq - data->data)) != 0)
            continue;
        if (check->attrs_seen & (1 << i))
            return fail(why, "duplicate attribute", REC_TYPE_ATTR);
        if (!attributes[i].valid(eq + 1))
            return fail(why, "bad attribute value", REC_TYPE_ATTR);
        check->attrs_seen |= 1 << i;
        if (strcmp(attributes[i].name, MAILDROP_ATTR_EXTRACT) == 0)
            check->extract = 1;
        return 0;
    }
    return fail(why, "unknown attribute", REC_TYPE_ATTR);
}

static int check_envelope(maildrop_check *check, int type, const strbuf *data, strbuf *why)
{
    int     notify;

    switch (type) {
    case REC_TYPE_ATTR:
        if (check->stage != MAILDROP_STAGE_ATTR)
            return fail(why, "attribute after sender", type);
        return check_attribute(check, data, why);
    case REC_TYPE_SENDER:
        if (check->stage != MAILDROP_STAGE_ATTR || !clean_text(data, MAILDROP_ADDRESS_MAX))
            return fail(why, "misplaced or bad sender", type);
        strbuf_set_mem(check->sender, data->data, data->len);
        check->stage = MAILDROP_STAGE_RCPT;
        return 0;
    case REC_TYPE_FULLNAME:
        if (check->stage != MAILDROP_STAGE_RCPT || check->have_fullname || check->recipients
            || check->pending_notify || !clean_text(data, MAILDROP_FULLNAME_MAX))
            return fail(why, "misplaced or bad full name", type);
        check->have_fullname = 1;
        return 0;
    case REC_TYPE_DSN_NOTIFY:
        if (check->stage != MAILDROP_STAGE_RCPT || check->pending_notify
            || !maildrop_notify_valid(data->data, &notify) || data->len != strlen(data->data))
            return fail(why, "misplaced or bad notify flags", type);
        check->pending_notify = 1;
        return 0;
    case REC_TYPE_RCPT:
        if (check->stage != MAILDROP_STAGE_RCPT || data->len == 0
            || !clean_text(data, MAILDROP_ADDRESS_MAX))
            return fail(why, "misplaced or bad recipient", type);
        check->pending_notify = 0;
        check->recipients++;
        return 0;
    case REC_TYPE_MESSAGE:
        if (check->stage != MAILDROP_STAGE_RCPT || check->pending_notify || data->len)
            return fail(why, "misplaced message start", type);
        if (check->recipients == 0 && !check->extract)
            return fail(why, "no recipients", type);
        check->stage = MAILDROP_STAGE_CONTENT;
        return 0;
    }
    return fail(why, "unexpected record", type);
}

int     maildrop_check_record(maildrop_check *check, int type, const strbuf *data, strbuf *why)
{
    switch (check->stage) {
    case MAILDROP_STAGE_TIME:
        if (type != REC_TYPE_TIME)
            return fail(why, "missing arrival time", type);
        return check_time(check, data, why);
    case MAILDROP_STAGE_CONTENT:
        if (type == REC_TYPE_LINE || type == REC_TYPE_PARTIAL)
            return 0;
        if (type != REC_TYPE_EXTRACTED || data->len)
            return fail(why, "unexpected record in content", type);
        check->stage = MAILDROP_STAGE_EXTRACTED;
        return 0;
    case MAILDROP_STAGE_EXTRACTED:
        if (type != REC_TYPE_END || data->len)
            return fail(why, "unexpected record after content", type);
        check->stage = MAILDROP_STAGE_DONE;
        return 0;
    case MAILDROP_STAGE_DONE:
        return fail(why, "data after the end record", type);
    default:
        return check_envelope(check, type, data, why);
    }
}

int     maildrop_check_end(const maildrop_check *check, strbuf *why)
{
    if (check->stage == MAILDROP_STAGE_DONE)
        return 0;
    strbuf_set(why, "premature end of file");
    return -1;
}

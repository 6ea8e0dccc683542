/*
 * attr - the one inter-process framing. See attr.h for the format.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "msg.h"

static int valid_name_char(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
}

static void check_name(const char *name)
{
    size_t  len = strlen(name);

    if (len == 0 || len > ATTR_NAME_MAX)
        msg_panic("attr: bad attribute name length: \"%s\"", name);
    for (const char *cp = name; *cp; cp++)
        if (!valid_name_char((unsigned char) *cp))
            msg_panic("attr: bad attribute name: \"%s\"", name);
}

void attr_put_data(stream *s, const char *name, const void *data, size_t len)
{
    check_name(name);
    if (len > ATTR_VALUE_MAX)
        msg_panic("attr: value of \"%s\" too long: %zu bytes", name, len);
    stream_printf(s, "%s=%zu:", name, len);
    stream_write(s, data, len);
    stream_putc(s, '\n');
}

void attr_put_str(stream *s, const char *name, const char *value)
{
    attr_put_data(s, name, value, strlen(value));
}

void attr_put_int(stream *s, const char *name, long value)
{
    char    text[32];
    int     len = snprintf(text, sizeof(text), "%ld", value);

    attr_put_data(s, name, text, (size_t) len);
}

void attr_put_end(stream *s)
{
    stream_putc(s, '\n');
}

int attr_end(stream *s)
{
    attr_put_end(s);
    return stream_flush(s);
}

/* Reads "name=" into name; returns 1 ok, 0 end of frame, -1 error. */
static int read_name(stream *s, char *name)
{
    size_t  len = 0;
    int     ch;

    for (;;) {
        if ((ch = stream_getc(s)) < 0)
            return -1;
        if (ch == '\n' && len == 0)
            return 0;
        if (ch == '=' && len > 0)
            break;
        if (!valid_name_char(ch) || len >= ATTR_NAME_MAX) {
            msg_warn("attr: malformed attribute name in frame");
            return -1;
        }
        name[len++] = (char) ch;
    }
    name[len] = 0;
    return 1;
}

/* Reads "LENGTH:"; returns the length or -1. */
static long read_length(stream *s, const char *name)
{
    long    len = 0;
    int     digits = 0;
    int     ch;

    while ((ch = stream_getc(s)) >= '0' && ch <= '9') {
        if ((digits > 0 && len == 0) || ++digits > 10) {
            msg_warn("attr: bad length for attribute \"%s\"", name);
            return -1;
        }
        len = len * 10 + (ch - '0');
    }
    if (ch != ':' || digits == 0 || len > ATTR_VALUE_MAX) {
        if (ch >= 0)
            msg_warn("attr: bad or oversize length for attribute \"%s\"", name);
        return -1;
    }
    return len;
}

static const attr_spec *find_spec(const attr_spec *spec, const char *name, size_t *index)
{
    for (size_t i = 0; spec[i].name; i++) {
        if (strcmp(spec[i].name, name) == 0) {
            *index = i;
            return &spec[i];
        }
    }
    return NULL;
}

static int store_number(const attr_spec *sp, const strbuf *value)
{
    char   *end;
    long    number;

    if (value->len == 0 || value->len > 20 || memchr(value->data, 0, value->len)) {
        msg_warn("attr: bad number for attribute \"%s\"", sp->name);
        return -1;
    }
    errno = 0;
    number = strtol(value->data, &end, 10);
    if (*end || errno == ERANGE || (value->data[0] != '-' &&
        (value->data[0] < '0' || value->data[0] > '9'))) {
        msg_warn("attr: bad number for attribute \"%s\"", sp->name);
        return -1;
    }
    if (sp->type == ATTR_TYPE_LONG) {
        *(long *) sp->target = number;
        return 0;
    }
    if (number < INT_MIN || number > INT_MAX) {
        msg_warn("attr: number out of range for attribute \"%s\"", sp->name);
        return -1;
    }
    *(int *) sp->target = (int) number;
    return 0;
}

static int store_value(const attr_spec *sp, strbuf *value)
{
    switch (sp->type) {
    case ATTR_TYPE_STR:
        if (memchr(value->data, 0, value->len)) {
            msg_warn("attr: NUL byte in string attribute \"%s\"", sp->name);
            return -1;
        }
        /* FALLTHROUGH */
    case ATTR_TYPE_DATA:
        strbuf_set_mem((strbuf *) sp->target, value->data, value->len);
        return 0;
    case ATTR_TYPE_INT:
    case ATTR_TYPE_LONG:
        return store_number(sp, value);
    }
    msg_panic("attr: bad spec type %d for \"%s\"", (int) sp->type, sp->name);
}

/* Reads the value and its trailing newline into value; 0 ok, -1 error. */
static int read_value(stream *s, const char *name, strbuf *value)
{
    long    len = read_length(s, name);

    if (len < 0)
        return -1;
    strbuf_reset(value);
    strbuf_reserve(value, (size_t) len);
    if (stream_read(s, value->data, (size_t) len) != (size_t) len)
        return -1;
    value->len = (size_t) len;
    value->data[len] = 0;
    if (stream_getc(s) != '\n') {
        msg_warn("attr: missing newline after attribute \"%s\"", name);
        return -1;
    }
    return 0;
}

static int check_required(const attr_spec *spec, const unsigned char *seen)
{
    for (size_t i = 0; spec[i].name; i++) {
        if (!seen[i] && !(spec[i].flags & ATTR_OPTIONAL)) {
            msg_warn("attr: missing attribute \"%s\"", spec[i].name);
            return -1;
        }
    }
    return 0;
}

int attr_scan(stream *s, int flags, const attr_spec *spec)
{
    unsigned char seen[ATTR_COUNT_MAX] = {0};
    char    name[ATTR_NAME_MAX + 1];
    strbuf *value = strbuf_new(64);
    int     stored = 0;
    int     total = 0;
    int     rc;

    while ((rc = read_name(s, name)) > 0) {
        const attr_spec *sp;
        size_t  index = 0;

        if (++total > ATTR_COUNT_MAX) {
            msg_warn("attr: too many attributes in frame");
            break;
        }
        if (read_value(s, name, value) < 0)
            break;
        if ((sp = find_spec(spec, name, &index)) == NULL) {
            if (flags & ATTR_FLAG_ALLOW_UNKNOWN)
                continue;
            msg_warn("attr: unexpected attribute \"%s\"", name);
            break;
        }
        if (index >= ATTR_COUNT_MAX || seen[index]) {
            msg_warn("attr: duplicate attribute \"%s\"", name);
            break;
        }
        if (store_value(sp, value) < 0)
            break;
        seen[index] = 1;
        stored++;
    }
    strbuf_free(value);
    if (rc != 0 || check_required(spec, seen) < 0)
        return -1;
    return stored;
}

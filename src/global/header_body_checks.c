/*
 * header_body_checks - what a header or body check result means. See
 * header_body_checks.h.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "header_body_checks.h"
#include "header_info.h"

enum hbc_argument { HBC_ARG_NONE, HBC_ARG_OPTIONAL, HBC_ARG_REQUIRED };

typedef struct hbc_keyword {
    const char *name;
    const char *log_name;               /* as Postfix logs the action */
    enum hbc_action action;
    enum hbc_argument argument;
} hbc_keyword;

static const hbc_keyword keywords[] = {
    {"DUNNO", "dunno", HBC_DUNNO, HBC_ARG_NONE},
    {"OK", "dunno", HBC_DUNNO, HBC_ARG_NONE},
    {"IGNORE", "ignore", HBC_IGNORE, HBC_ARG_NONE},
    {"STRIP", "strip", HBC_STRIP, HBC_ARG_OPTIONAL},
    {"INFO", "info", HBC_INFO, HBC_ARG_OPTIONAL},
    {"WARN", "warning", HBC_WARN, HBC_ARG_OPTIONAL},
    {"PASS", "pass", HBC_PASS, HBC_ARG_OPTIONAL},
    {"HOLD", "hold", HBC_HOLD, HBC_ARG_OPTIONAL},
    {"DISCARD", "discard", HBC_DISCARD, HBC_ARG_OPTIONAL},
    {"REJECT", "reject", HBC_REJECT, HBC_ARG_OPTIONAL},
    {"PREPEND", "prepend", HBC_PREPEND, HBC_ARG_REQUIRED},
    {"REPLACE", "replace", HBC_REPLACE, HBC_ARG_REQUIRED},
    {"REDIRECT", "redirect", HBC_REDIRECT, HBC_ARG_REQUIRED},
    {"BCC", "bcc", HBC_BCC, HBC_ARG_REQUIRED},
    {"FILTER", "filter", HBC_FILTER, HBC_ARG_REQUIRED},
};

#define KEYWORD_COUNT (sizeof(keywords) / sizeof(keywords[0]))

#define HBC_DEFAULT_DSN     "5.7.1"
#define HBC_DEFAULT_REJECT  "message content rejected"

void    hbc_result_init(hbc_result *result)
{
    result->action = HBC_DUNNO;
    result->dsn = strbuf_new(8);
    result->text = strbuf_new(64);
}

void    hbc_result_free(hbc_result *result)
{
    strbuf_free(result->dsn);
    strbuf_free(result->text);
}

const char *hbc_action_name(enum hbc_action action)
{
    for (size_t i = 0; i < KEYWORD_COUNT; i++)
        if (keywords[i].action == action)
            return keywords[i].log_name;
    return "unknown";
}

static int has_control(const char *text)
{
    for (const unsigned char *cp = (const unsigned char *) text; *cp; cp++)
        if ((*cp < 0x20 && *cp != '\t') || *cp == 0x7f)
            return 1;
    return 0;
}

/* Length of a leading "5.X.Y" (X, Y: 1-3 digits) followed by white space or the end. */
static size_t reject_dsn_length(const char *text)
{
    size_t  pos = 2;
    size_t  n;

    if (text[0] != '5' || text[1] != '.')
        return 0;
    for (n = 0; isdigit((unsigned char) text[pos]) && n < 4; n++)
        pos++;
    if (n < 1 || n > 3 || text[pos++] != '.')
        return 0;
    for (n = 0; isdigit((unsigned char) text[pos]) && n < 4; n++)
        pos++;
    if (n < 1 || n > 3 || (text[pos] != 0 && text[pos] != ' ' && text[pos] != '\t'))
        return 0;
    return pos;
}

static void parse_reject(const char *text, hbc_result *result)
{
    size_t  dsn_len = reject_dsn_length(text);

    if (dsn_len) {
        strbuf_set_mem(result->dsn, text, dsn_len);
        text += dsn_len;
        text += strspn(text, " \t");
    } else {
        strbuf_set(result->dsn, HBC_DEFAULT_DSN);
    }
    strbuf_set(result->text, *text ? text : HBC_DEFAULT_REJECT);
}

/* An address argument: one word, a local part and a domain. */
static int address_argument_ok(const char *text)
{
    const char *at = strrchr(text, '@');

    return strpbrk(text, " \t") == NULL && at != NULL && at != text && at[1] != 0;
}

static int filter_argument_ok(const char *text)
{
    const char *colon = strchr(text, ':');

    return strpbrk(text, " \t") == NULL && colon != NULL && colon != text;
}

static int header_argument_ok(const char *text)
{
    size_t  name_len;
    size_t  value_start;

    return header_parse_name(text, strlen(text), &name_len, &value_start) == 1;
}

static int check_argument(const hbc_keyword *kw, enum hbc_context context, const char *text,
                          strbuf *why)
{
    switch (kw->action) {
    case HBC_PREPEND:
    case HBC_REPLACE:
        if (context == HBC_CONTEXT_HEADER && !header_argument_ok(text)) {
            strbuf_printf(why, "%s action: \"%s\" is not a message header", kw->name, text);
            return -1;
        }
        return 0;
    case HBC_REDIRECT:
    case HBC_BCC:
        if (!address_argument_ok(text)) {
            strbuf_printf(why, "%s action: bad address \"%s\"", kw->name, text);
            return -1;
        }
        return 0;
    case HBC_FILTER:
        if (!filter_argument_ok(text)) {
            strbuf_printf(why, "FILTER action: bad transport:destination \"%s\"", text);
            return -1;
        }
        return 0;
    default:
        return 0;
    }
}

int     hbc_parse(const char *value, enum hbc_context context, hbc_result *result, strbuf *why)
{
    size_t  name_len = strcspn(value, " \t");
    const char *text = value + name_len + strspn(value + name_len, " \t");
    const hbc_keyword *kw = NULL;

    result->action = HBC_DUNNO;
    strbuf_reset(result->dsn);
    strbuf_reset(result->text);
    if (has_control(value)) {
        strbuf_set(why, "control character in action text");
        return -1;
    }
    for (size_t i = 0; i < KEYWORD_COUNT && kw == NULL; i++)
        if (strlen(keywords[i].name) == name_len
            && strncasecmp(keywords[i].name, value, name_len) == 0)
            kw = &keywords[i];
    if (kw == NULL) {
        strbuf_printf(why, "unknown action: \"%.*s\"", (int) (name_len > 100 ? 100 : name_len),
                      value);
        return -1;
    }
    if (kw->argument == HBC_ARG_REQUIRED && *text == 0) {
        strbuf_printf(why, "%s action requires an argument", kw->name);
        return -1;
    }
    if (check_argument(kw, context, text, why) < 0)
        return -1;
    result->action = kw->action;
    if (kw->action == HBC_REJECT)
        parse_reject(text, result);
    else if (kw->argument != HBC_ARG_NONE)
        strbuf_set(result->text, text);
    return 0;
}

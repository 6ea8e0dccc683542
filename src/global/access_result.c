/*
 * access_result - what an access(5) table result means. See access_result.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access_result.h"
#include "mem.h"

enum argument { ARG_OPTIONAL, ARG_REQUIRED };

typedef struct access_keyword {
    const char *name;
    enum access_action action;
    enum argument argument;
    int     reply_class;                /* '4' or '5' when a DSN may lead the text */
} access_keyword;

static const access_keyword keywords[] = {
    {"OK", ACCESS_OK, ARG_OPTIONAL, 0},
    {"DUNNO", ACCESS_DUNNO, ARG_OPTIONAL, 0},
    {"REJECT", ACCESS_REJECT, ARG_OPTIONAL, '5'},
    {"DEFER", ACCESS_DEFER, ARG_OPTIONAL, '4'},
    {"DEFER_IF_REJECT", ACCESS_DEFER_IF_REJECT, ARG_OPTIONAL, '4'},
    {"DEFER_IF_PERMIT", ACCESS_DEFER_IF_PERMIT, ARG_OPTIONAL, '4'},
    {"DISCARD", ACCESS_DISCARD, ARG_OPTIONAL, 0},
    {"HOLD", ACCESS_HOLD, ARG_OPTIONAL, 0},
    {"WARN", ACCESS_WARN, ARG_OPTIONAL, 0},
    {"INFO", ACCESS_INFO, ARG_OPTIONAL, 0},
    {"FILTER", ACCESS_FILTER, ARG_REQUIRED, 0},
    {"REDIRECT", ACCESS_REDIRECT, ARG_REQUIRED, 0},
    {"BCC", ACCESS_BCC, ARG_REQUIRED, 0},
    {"PREPEND", ACCESS_PREPEND, ARG_REQUIRED, 0},
};

#define KEYWORD_COUNT (sizeof(keywords) / sizeof(keywords[0]))

const char *access_action_name(enum access_action action)
{
    if (action == ACCESS_RESTRICTIONS)
        return "restrictions";
    for (size_t i = 0; i < KEYWORD_COUNT; i++)
        if (keywords[i].action == action)
            return keywords[i].name;
    return "unknown";
}

static access_result *new_result(enum access_action action, int code, const char *dsn,
                                 size_t dsn_len, const char *text, size_t text_len)
{
    access_result *result = xmalloc(sizeof(*result));

    result->action = action;
    result->code = code;
    result->dsn = xstrndup(dsn, dsn_len);
    result->text = xstrndup(text, text_len);
    return result;
}

void    access_result_free(access_result *result)
{
    if (result) {
        free(result->dsn);
        free(result->text);
        free(result);
    }
}

static int digits(const char *cp, size_t min, size_t max, const char **end)
{
    size_t  n = 0;

    while (isdigit((unsigned char) cp[n]))
        n++;
    *end = cp + n;
    return n >= min && n <= max;
}

/* Length of an RFC 3463 status code ("5.7.1") at the start of text, or 0. */
static size_t dsn_length(const char *text)
{
    const char *cp;

    if (!strchr("245", text[0]) || text[1] != '.'
        || !digits(text + 2, 1, 3, &cp) || *cp != '.' || !digits(cp + 1, 1, 3, &cp)
        || (*cp && !isspace((unsigned char) *cp)))
        return 0;
    return (size_t) (cp - text);
}

static const char *skip_space(const char *cp)
{
    while (*cp == ' ' || *cp == '\t')
        cp++;
    return cp;
}

/*
 * Splits "5.7.1 text" for an action of the given reply class; a status of
 * the other class takes the action's class, as Postfix corrects it.
 */
static access_result *with_status(enum access_action action, int code, int reply_class,
                                  const char *text)
{
    size_t  len = dsn_length(text);
    char    status[16];

    if (len == 0 || len >= sizeof(status))
        return new_result(action, code, "", 0, text, strlen(text));
    memcpy(status, text, len);
    status[0] = (char) reply_class;
    text = skip_space(text + len);
    return new_result(action, code, status, len, text, strlen(text));
}

static int valid_header(const char *text)
{
    const char *cp = text;

    while (*cp && *cp != ':' && !isspace((unsigned char) *cp) && isprint((unsigned char) *cp))
        cp++;
    return cp > text && *cp == ':';
}

static access_result *keyword_result(const access_keyword *keyword, const char *arg,
                                     strbuf *why)
{
    if (keyword->argument == ARG_REQUIRED && *arg == 0) {
        strbuf_printf(why, "%s requires an argument", keyword->name);
        return NULL;
    }
    if (keyword->action == ACCESS_FILTER && (*arg == ':' || strchr(arg, ':') == NULL)) {
        strbuf_printf(why, "FILTER needs transport:destination, not \"%s\"", arg);
        return NULL;
    }
    if (keyword->action == ACCESS_PREPEND && !valid_header(arg)) {
        strbuf_printf(why, "PREPEND needs a header \"name: value\", not \"%s\"", arg);
        return NULL;
    }
    if (keyword->reply_class)
        return with_status(keyword->action, 0, keyword->reply_class, arg);
    return new_result(keyword->action, 0, "", 0, arg, strlen(arg));
}

static access_result *reply_code_result(const char *word, size_t word_len, const char *arg,
                                        strbuf *why)
{
    if (word[0] != '4' && word[0] != '5') {
        strbuf_printf(why, "invalid reply code %.*s: it must be 4NN or 5NN",
                      (int) word_len, word);
        return NULL;
    }
    return with_status(word[0] == '4' ? ACCESS_DEFER : ACCESS_REJECT,
                       atoi(word), word[0], arg);
}

/* The whole value, trimmed: a restriction list for the caller. */
static access_result *restrictions_result(const char *value)
{
    size_t  len = strlen(value);

    while (len > 0 && isspace((unsigned char) value[len - 1]))
        len--;
    return new_result(ACCESS_RESTRICTIONS, 0, "", 0, value, len);
}

static int has_control_character(const char *text)
{
    for (const unsigned char *cp = (const unsigned char *) text; *cp; cp++)
        if ((*cp < 0x20 && *cp != '\t') || *cp == 0x7f)
            return 1;
    return 0;
}

access_result *access_result_parse(const char *value, strbuf *why)
{
    const char *word = skip_space(value);
    size_t  word_len = strcspn(word, " \t");
    const char *digits_end;
    strbuf *arg = strbuf_from(skip_space(word + word_len));
    access_result *result = NULL;

    strbuf_reset(why);
    while (arg->len && isspace((unsigned char) arg->data[arg->len - 1]))
        strbuf_truncate(arg, arg->len - 1);
    if (has_control_character(value)) {
        strbuf_set(why, "access table result contains a control character");
    } else if (word_len == 0) {
        strbuf_set(why, "empty access table result");
    } else if (digits(word, 1, word_len, &digits_end) && digits_end == word + word_len
               && arg->len == 0) {
        result = new_result(ACCESS_OK, 0, "", 0, word, word_len);  /* all-numerical */
    } else if (word_len == 3 && digits(word, 3, 3, &digits_end)) {
        result = reply_code_result(word, word_len, arg->data, why);
    } else {
        for (size_t i = 0; i < KEYWORD_COUNT && result == NULL && why->len == 0; i++)
            if (strlen(keywords[i].name) == word_len
                && strncasecmp(keywords[i].name, word, word_len) == 0)
                result = keyword_result(&keywords[i], arg->data, why);
        if (result == NULL && why->len == 0)
            result = restrictions_result(word);
    }
    strbuf_free(arg);
    return result;
}

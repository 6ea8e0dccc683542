/*
 * mail_params - the parameter table and its evaluation. See mail_params.h.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "htable.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "strbuf.h"

#define PARAM_STR(n, d)                 char *var_##n;
#define PARAM_RAW(n, d)                 char *var_##n;
#define PARAM_FUNC(n, f)                char *var_##n;
#define PARAM_INT(n, d, lo, hi)         int var_##n;
#define PARAM_LONG(n, d, lo, hi)        long var_##n;
#define PARAM_BOOL(n, d)                int var_##n;
#define PARAM_TIME(n, d, lo, hi)        int var_##n;
#include "params/all.def"
#undef PARAM_STR
#undef PARAM_RAW
#undef PARAM_FUNC
#undef PARAM_INT
#undef PARAM_LONG
#undef PARAM_BOOL
#undef PARAM_TIME

#define PARAM_STR(n, d)          { #n, PARAM_T_STR, d, NULL, &var_##n, 0, 0 },
#define PARAM_RAW(n, d)          { #n, PARAM_T_RAW, d, NULL, &var_##n, 0, 0 },
#define PARAM_FUNC(n, f)         { #n, PARAM_T_STR, NULL, f, &var_##n, 0, 0 },
#define PARAM_INT(n, d, lo, hi)  { #n, PARAM_T_INT, #d, NULL, &var_##n, lo, hi },
#define PARAM_LONG(n, d, lo, hi) { #n, PARAM_T_LONG, #d, NULL, &var_##n, lo, hi },
#define PARAM_BOOL(n, d)         { #n, PARAM_T_BOOL, #d, NULL, &var_##n, 0, 0 },
#define PARAM_TIME(n, d, lo, hi) { #n, PARAM_T_TIME, d, NULL, &var_##n, lo, hi },
const param_def param_table[] = {
#include "params/all.def"
};
#undef PARAM_STR
#undef PARAM_RAW
#undef PARAM_FUNC
#undef PARAM_INT
#undef PARAM_LONG
#undef PARAM_BOOL
#undef PARAM_TIME

const size_t param_table_size = sizeof(param_table) / sizeof(param_table[0]);

const param_def *param_find(const char *name)
{
    static htable *index;

    if (index == NULL) {
        index = htable_new(param_table_size * 2);
        for (size_t i = 0; i < param_table_size; i++)
            htable_put(index, param_table[i].name, (void *) &param_table[i], NULL);
    }
    return htable_get(index, name);
}

const char *param_default_text(const param_def *param)
{
    return param->default_fn ? param->default_fn() : param->default_text;
}

int param_parse_bool(const char *text, int *value)
{
    if (strcasecmp(text, "yes") == 0 || strcasecmp(text, "true") == 0) {
        *value = 1;
        return 0;
    }
    if (strcasecmp(text, "no") == 0 || strcasecmp(text, "false") == 0) {
        *value = 0;
        return 0;
    }
    return -1;
}

int param_parse_long(const char *text, long *value)
{
    char   *end;

    if (!isdigit((unsigned char) *text) && !(*text == '-' && isdigit((unsigned char) text[1])))
        return -1;
    errno = 0;
    *value = strtol(text, &end, 10);
    return (*end || errno == ERANGE) ? -1 : 0;
}

int param_time_unit(const param_def *param)
{
    const char *text = param->default_text;
    size_t  len = text ? strlen(text) : 0;

    return len && isalpha((unsigned char) text[len - 1]) ? text[len - 1] : 's';
}

int param_parse_time(const char *text, int default_unit, long *seconds)
{
    char   *end;
    long    number;
    long    multiplier;
    int     unit;

    if (!isdigit((unsigned char) *text))
        return -1;
    errno = 0;
    number = strtol(text, &end, 10);
    if (errno == ERANGE || (end[0] && end[1]))
        return -1;
    unit = end[0] ? end[0] : default_unit;
    switch (unit) {
    case 's': multiplier = 1; break;
    case 'm': multiplier = 60; break;
    case 'h': multiplier = 3600; break;
    case 'd': multiplier = 86400; break;
    case 'w': multiplier = 7 * 86400; break;
    default: return -1;
    }
    if (number > INT_MAX / multiplier)
        return -1;
    *seconds = number * multiplier;
    return 0;
}

static void check_range(const param_def *param, long value, const char *text)
{
    if (value < param->min || (param->max > 0 && value > param->max))
        msg_fatal("invalid %s parameter value %s: must be %ld%s%ld", param->name, text,
                  param->min, param->max > 0 ? " .. " : " or more", param->max > 0 ?
                  param->max : 0L);
}

static void load_one(const param_def *param, strbuf *value)
{
    long    number = 0;
    int     flag;

    switch (param->type) {
    case PARAM_T_STR:
    case PARAM_T_RAW:
        free(*(char **) param->variable);
        *(char **) param->variable = xstrdup(value->data);
        return;
    case PARAM_T_BOOL:
        if (param_parse_bool(value->data, &flag) < 0)
            msg_fatal("bad boolean configuration: %s = %s", param->name, value->data);
        *(int *) param->variable = flag;
        return;
    case PARAM_T_TIME:
        if (param_parse_time(value->data, param_time_unit(param), &number) < 0)
            msg_fatal("invalid %s parameter value: \"%s\"", param->name, value->data);
        check_range(param, number, value->data);
        *(int *) param->variable = (int) number;
        return;
    case PARAM_T_INT:
    case PARAM_T_LONG:
        if (param_parse_long(value->data, &number) < 0
            || (param->type == PARAM_T_INT && (number > INT_MAX || number < INT_MIN)))
            msg_fatal("bad numerical configuration: %s = %s", param->name, value->data);
        check_range(param, number, value->data);
        if (param->type == PARAM_T_INT)
            *(int *) param->variable = (int) number;
        else
            *(long *) param->variable = number;
        return;
    }
}

void params_load(void)
{
    strbuf *value = strbuf_new(256);

    for (size_t i = 0; i < param_table_size; i++) {
        const param_def *param = &param_table[i];

        if (param->type == PARAM_T_RAW)
            strbuf_set(value, config_lookup_raw_or_default(param->name));
        else if (config_eval(param->name, value) < 0)
            msg_fatal("%s: parameter %s: %s", config_main_cf_path(), param->name,
                      config_last_error());
        load_one(param, value);
    }
    strbuf_free(value);
    msg_set_log_hostname(var_myhostname);
}

/*
 * smtp_args - MAIL FROM / RCPT TO arguments and their replies.
 * See smtp_args.h.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail_ctype.h"
#include "mail_sanitize.h"
#include "mail_utf8.h"
#include "mem.h"
#include "smtp_args.h"
#include "xtext.h"

enum value_rule { VALUE_REQUIRED, VALUE_NONE, VALUE_OPTIONAL };

typedef int (*param_decoder)(smtp_args *args, const esmtp_param *param, int flags);

typedef struct param_spec {
    const char *keyword;
    int     kind;
    int     bit;                        /* SMTP_PARAM_* */
    int     requires;                   /* SMTP_ARGS_* flag that enables it, or 0 */
    enum value_rule value_rule;
    int     syntax_error;               /* status for a malformed value */
    int     twice_error;                /* status when given twice; OK: allowed */
    param_decoder decode;
} param_spec;

static int decode_size(smtp_args *args, const esmtp_param *param, int flags);
static int decode_body(smtp_args *args, const esmtp_param *param, int flags);
static int decode_ret(smtp_args *args, const esmtp_param *param, int flags);
static int decode_envid(smtp_args *args, const esmtp_param *param, int flags);
static int decode_auth(smtp_args *args, const esmtp_param *param, int flags);
static int decode_flag(smtp_args *args, const esmtp_param *param, int flags);
static int decode_xverp(smtp_args *args, const esmtp_param *param, int flags);
static int decode_notify(smtp_args *args, const esmtp_param *param, int flags);
static int decode_orcpt(smtp_args *args, const esmtp_param *param, int flags);

static const param_spec param_specs[] = {
    {"SIZE", SMTP_ARGS_MAIL, SMTP_PARAM_SIZE, 0, VALUE_REQUIRED,
     SMTP_ARGS_ERR_SIZE, SMTP_ARGS_OK, decode_size},
    {"BODY", SMTP_ARGS_MAIL, SMTP_PARAM_BODY, 0, VALUE_REQUIRED,
     SMTP_ARGS_ERR_UNSUPPORTED, SMTP_ARGS_OK, decode_body},
    {"RET", SMTP_ARGS_MAIL, SMTP_PARAM_RET, SMTP_ARGS_DSN, VALUE_REQUIRED,
     SMTP_ARGS_ERR_RET, SMTP_ARGS_ERR_RET, decode_ret},
    {"ENVID", SMTP_ARGS_MAIL, SMTP_PARAM_ENVID, SMTP_ARGS_DSN, VALUE_REQUIRED,
     SMTP_ARGS_ERR_ENVID, SMTP_ARGS_ERR_ENVID, decode_envid},
    {"AUTH", SMTP_ARGS_MAIL, SMTP_PARAM_AUTH, SMTP_ARGS_AUTH, VALUE_REQUIRED,
     SMTP_ARGS_ERR_AUTH, SMTP_ARGS_ERR_AUTH_TWICE, decode_auth},
    {"SMTPUTF8", SMTP_ARGS_MAIL, SMTP_PARAM_SMTPUTF8, SMTP_ARGS_SMTPUTF8, VALUE_NONE,
     SMTP_ARGS_ERR_UNSUPPORTED, SMTP_ARGS_OK, decode_flag},
    {"XVERP", SMTP_ARGS_MAIL, SMTP_PARAM_XVERP, SMTP_ARGS_XVERP, VALUE_OPTIONAL,
     SMTP_ARGS_ERR_UNSUPPORTED, SMTP_ARGS_OK, decode_xverp},
    {"NOTIFY", SMTP_ARGS_RCPT, SMTP_PARAM_NOTIFY, SMTP_ARGS_DSN, VALUE_REQUIRED,
     SMTP_ARGS_ERR_NOTIFY, SMTP_ARGS_ERR_NOTIFY, decode_notify},
    {"ORCPT", SMTP_ARGS_RCPT, SMTP_PARAM_ORCPT, SMTP_ARGS_DSN, VALUE_REQUIRED,
     SMTP_ARGS_ERR_ORCPT, SMTP_ARGS_ERR_ORCPT, decode_orcpt},
};

#define PARAM_SPEC_COUNT (sizeof(param_specs) / sizeof(param_specs[0]))

smtp_args *smtp_args_new(void)
{
    smtp_args *args = xcalloc(1, sizeof(*args));

    args->path = smtp_path_new();
    args->envid = strbuf_new(32);
    args->auth = strbuf_new(32);
    args->xverp = strbuf_new(4);
    args->orcpt_type = strbuf_new(8);
    args->orcpt = strbuf_new(64);
    args->bad_param = strbuf_new(32);
    return args;
}

void smtp_args_free(smtp_args *args)
{
    if (args == NULL)
        return;
    smtp_path_free(args->path);
    strbuf_free(args->envid);
    strbuf_free(args->auth);
    strbuf_free(args->xverp);
    strbuf_free(args->orcpt_type);
    strbuf_free(args->orcpt);
    strbuf_free(args->bad_param);
    free(args);
}

static void args_reset(smtp_args *args, int kind)
{
    args->kind = kind;
    args->status = SMTP_ARGS_OK;
    args->why = NULL;
    args->params = 0;
    args->size = 0;
    args->body = args->ret = args->notify = 0;
    strbuf_reset(args->envid);
    strbuf_reset(args->auth);
    strbuf_reset(args->xverp);
    strbuf_reset(args->orcpt_type);
    strbuf_reset(args->orcpt);
    strbuf_reset(args->bad_param);
}

/* Splitting. */

int esmtp_keyword_valid(const char *keyword, size_t len)
{
    if (len == 0 || !mail_is_alnum((unsigned char) keyword[0]))
        return 0;
    for (size_t i = 1; i < len; i++)
        if (!mail_is_alnum((unsigned char) keyword[i]) && keyword[i] != '-')
            return 0;
    return 1;
}

int esmtp_value_valid(const char *value, size_t len, int flags)
{
    const unsigned char *p = (const unsigned char *) value;
    size_t  step;

    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i += step) {
        step = 1;
        if (p[i] >= 0x80) {
            if (!(flags & ESMTP_PARAM_UTF8) || (step = utf8_char_length(p + i, len - i)) == 0)
                return 0;
        } else if (p[i] < 33 || p[i] > 126 || p[i] == '=') {
            return 0;
        }
    }
    return 1;
}

int esmtp_param_next(const char *text, size_t len, size_t *pos, int flags,
                     esmtp_param *param)
{
    size_t  start;
    const char *equals;

    while (*pos < len && mail_is_blank(text[*pos]))
        (*pos)++;
    if (*pos >= len)
        return 0;
    for (start = *pos; *pos < len && !mail_is_blank(text[*pos]); (*pos)++)
         /* find the end */ ;
    param->text = text + start;
    param->text_len = *pos - start;
    equals = memchr(param->text, '=', param->text_len);
    param->keyword_len = equals ? (size_t) (equals - param->text) : param->text_len;
    param->value = equals ? equals + 1 : NULL;
    param->value_len = equals ? param->text_len - param->keyword_len - 1 : 0;
    if (!esmtp_keyword_valid(param->text, param->keyword_len))
        return -1;
    if (param->value && !esmtp_value_valid(param->value, param->value_len, flags))
        return -1;
    return 1;
}

/* Decoders: each returns SMTP_ARGS_OK or its error status. */

static int value_is(const esmtp_param *param, const char *word)
{
    return param->value_len == strlen(word)
        && strncasecmp(param->value, word, param->value_len) == 0;
}

static int decode_size(smtp_args *args, const esmtp_param *param, int flags)
{
    unsigned long value = 0;

    for (size_t i = 0; i < param->value_len; i++) {
        int     digit = param->value[i] - '0';

        if (digit < 0 || digit > 9)
            return SMTP_ARGS_ERR_SIZE;
        if (value > (LONG_MAX - (unsigned long) digit) / 10)
            return SMTP_ARGS_ERR_SIZE_OVERFLOW;
        value = value * 10 + (unsigned long) digit;
    }
    args->size = (long) value;
    return SMTP_ARGS_OK;
}

static int decode_body(smtp_args *args, const esmtp_param *param, int flags)
{
    if (value_is(param, "7BIT"))
        args->body = SMTP_BODY_7BIT;
    else if (value_is(param, "8BITMIME"))
        args->body = SMTP_BODY_8BITMIME;
    else
        return SMTP_ARGS_ERR_UNSUPPORTED;
    return SMTP_ARGS_OK;
}

static int decode_ret(smtp_args *args, const esmtp_param *param, int flags)
{
    if (value_is(param, "FULL"))
        args->ret = DSN_RET_FULL;
    else if (value_is(param, "HDRS"))
        args->ret = DSN_RET_HDRS;
    else
        return SMTP_ARGS_ERR_RET;
    return SMTP_ARGS_OK;
}

/* Decoded xtext whose bytes all lie in [low, 0x7E]. */
static int decode_xtext_range(strbuf *out, const esmtp_param *param, int low)
{
    if (xtext_decode(out, param->value, param->value_len) < 0 || out->len == 0)
        return -1;
    for (size_t i = 0; i < out->len; i++)
        if ((unsigned char) out->data[i] < low || (unsigned char) out->data[i] > 0x7E)
            return -1;
    return 0;
}

static int decode_envid(smtp_args *args, const esmtp_param *param, int flags)
{
    if (decode_xtext_range(args->envid, param, 0x21) < 0
        || args->envid->len > SMTP_ENVID_MAX_LENGTH) {
        strbuf_reset(args->envid);
        return SMTP_ARGS_ERR_ENVID;
    }
    return SMTP_ARGS_OK;
}

static int decode_auth(smtp_args *args, const esmtp_param *param, int flags)
{
    if (value_is(param, "<>"))
        return SMTP_ARGS_OK;
    if (decode_xtext_range(args->auth, param, 0x20) < 0) {
        strbuf_reset(args->auth);
        return SMTP_ARGS_ERR_AUTH;
    }
    return SMTP_ARGS_OK;
}

static int decode_flag(smtp_args *args, const esmtp_param *param, int flags)
{
    return SMTP_ARGS_OK;
}

static int decode_xverp(smtp_args *args, const esmtp_param *param, int flags)
{
    strbuf_set_mem(args->xverp, param->value ? param->value : "", param->value_len);
    return SMTP_ARGS_OK;
}

static int notify_keyword(const char *word, size_t len)
{
    static const struct {
        const char *name;
        int     bit;
    } keywords[] = {
        {"NEVER", DSN_NOTIFY_NEVER}, {"SUCCESS", DSN_NOTIFY_SUCCESS},
        {"FAILURE", DSN_NOTIFY_FAILURE}, {"DELAY", DSN_NOTIFY_DELAY},
    };

    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
        if (len == strlen(keywords[i].name) && strncasecmp(word, keywords[i].name, len) == 0)
            return keywords[i].bit;
    return 0;
}

static int decode_notify(smtp_args *args, const esmtp_param *param, int flags)
{
    const char *word = param->value;
    const char *end = param->value + param->value_len;
    int     mask = 0;

    while (word <= end) {
        const char *comma = memchr(word, ',', (size_t) (end - word));
        const char *word_end = comma ? comma : end;
        int     bit = notify_keyword(word, (size_t) (word_end - word));

        if (bit == 0)
            return SMTP_ARGS_ERR_NOTIFY;
        mask |= bit;
        if (comma == NULL)
            break;
        word = comma + 1;
    }
    if ((mask & DSN_NOTIFY_NEVER) && mask != DSN_NOTIFY_NEVER)
        return SMTP_ARGS_ERR_NOTIFY;
    args->notify = mask;
    return SMTP_ARGS_OK;
}

static int decode_orcpt(smtp_args *args, const esmtp_param *param, int flags)
{
    int     orcpt_flags = (flags & SMTP_ARGS_UTF8_SESSION) ? ORCPT_UTF8 : 0;

    if (orcpt_decode(param->value, param->value_len, orcpt_flags,
                     args->orcpt_type, args->orcpt) < 0)
        return SMTP_ARGS_ERR_ORCPT;
    return SMTP_ARGS_OK;
}

/* Parameter dispatch. */

static const param_spec *find_spec(int kind, const esmtp_param *param)
{
    for (size_t i = 0; i < PARAM_SPEC_COUNT; i++) {
        const param_spec *spec = &param_specs[i];

        if (spec->kind == kind && param->keyword_len == strlen(spec->keyword)
            && strncasecmp(param->text, spec->keyword, param->keyword_len) == 0)
            return spec;
    }
    return NULL;
}

static int value_rule_broken(const param_spec *spec, const esmtp_param *param)
{
    if (spec->value_rule == VALUE_REQUIRED)
        return param->value == NULL;
    if (spec->value_rule == VALUE_NONE)
        return param->value != NULL;
    return 0;
}

/* One parameter; split_status is esmtp_param_next()'s result (1 or -1). */
static int decode_param(smtp_args *args, const esmtp_param *param, int split_status,
                        int flags)
{
    const param_spec *spec = find_spec(args->kind, param);
    int     status;

    if (spec == NULL)
        return SMTP_ARGS_ERR_UNSUPPORTED;
    if (spec->requires && !(flags & spec->requires))
        return spec->requires == SMTP_ARGS_DSN ?
            SMTP_ARGS_ERR_DSN_DISABLED : SMTP_ARGS_ERR_UNSUPPORTED;
    if (value_rule_broken(spec, param))
        return SMTP_ARGS_ERR_UNSUPPORTED;
    if ((args->params & spec->bit) && spec->twice_error != SMTP_ARGS_OK)
        return spec->twice_error;
    if (split_status < 0)
        return spec->syntax_error;
    if ((status = spec->decode(args, param, flags)) == SMTP_ARGS_OK)
        args->params |= spec->bit;
    return status;
}

static int parse_params(smtp_args *args, const char *text, size_t len, size_t pos, int flags)
{
    int     split_flags = 0;
    esmtp_param param;
    int     split_status;
    int     status;

    if (args->kind == SMTP_ARGS_RCPT && (flags & SMTP_ARGS_UTF8_SESSION))
        split_flags = ESMTP_PARAM_UTF8;
    while ((split_status = esmtp_param_next(text, len, &pos, split_flags, &param)) != 0) {
        if ((status = decode_param(args, &param, split_status, flags)) != SMTP_ARGS_OK) {
            strbuf_set_mem(args->bad_param, param.text, param.text_len);
            args->why = "bad parameter";
            return status;
        }
    }
    return SMTP_ARGS_OK;
}

static int utf8_declared(const smtp_args *args, int flags)
{
    if (args->kind == SMTP_ARGS_MAIL)
        return (args->params & SMTP_PARAM_SMTPUTF8) != 0;
    return (flags & SMTP_ARGS_UTF8_SESSION) != 0;
}

static int parse_all(smtp_args *args, const char *text, size_t len, int flags)
{
    int     path_flags = 0;
    int     status;

    if (flags & SMTP_ARGS_STRICT)
        path_flags |= SMTP_PATH_STRICT;
    if (args->kind == SMTP_ARGS_MAIL)
        path_flags |= SMTP_PATH_ALLOW_NULL;
    switch (smtp_path_parse(args->path, text, len, path_flags)) {
    case SMTP_PATH_EMPTY:
        args->why = args->path->why;
        return SMTP_ARGS_ERR_EMPTY;
    case SMTP_PATH_BAD:
        args->why = args->path->why;
        return SMTP_ARGS_ERR_ADDRESS;
    }
    if ((status = parse_params(args, text, len, args->path->end, flags)) != SMTP_ARGS_OK)
        return status;
    if ((args->path->flags & SMTP_PATH_F_UTF8) && !utf8_declared(args, flags)) {
        args->why = "non-ASCII address without SMTPUTF8";
        return SMTP_ARGS_ERR_UTF8_UNDECLARED;
    }
    return SMTP_ARGS_OK;
}

int smtp_args_parse(smtp_args *args, int kind, const char *text, size_t len, int flags)
{
    args_reset(args, kind);
    args->status = parse_all(args, text, len, flags);
    return args->status;
}

/* Replies. */

static const char *const mail_replies[] = {
    [SMTP_ARGS_OK] = "250 2.1.0 Ok",
    [SMTP_ARGS_ERR_EMPTY] = "501 5.5.4 Syntax: MAIL FROM:<address>",
    [SMTP_ARGS_ERR_ADDRESS] = "501 5.1.7 Bad sender address syntax",
};

static const char *const rcpt_replies[] = {
    [SMTP_ARGS_OK] = "250 2.1.5 Ok",
    [SMTP_ARGS_ERR_EMPTY] = "501 5.5.4 Syntax: RCPT TO:<address>",
    [SMTP_ARGS_ERR_ADDRESS] = "501 5.1.3 Bad recipient address syntax",
};

static const char *const param_replies[] = {
    [SMTP_ARGS_ERR_UNSUPPORTED] = "555 5.5.4 Unsupported option: ",
    [SMTP_ARGS_ERR_DSN_DISABLED] = "501 5.7.1 DSN support is disabled",
    [SMTP_ARGS_ERR_SIZE] = "501 5.5.4 Bad message size syntax",
    [SMTP_ARGS_ERR_SIZE_OVERFLOW] = "552 5.3.4 Message size exceeds file system imposed limit",
    [SMTP_ARGS_ERR_RET] = "501 5.5.4 Bad RET parameter syntax",
    [SMTP_ARGS_ERR_ENVID] = "501 5.5.4 Bad ENVID parameter syntax",
    [SMTP_ARGS_ERR_AUTH] = "501 5.5.4 Bad AUTH parameter syntax",
    [SMTP_ARGS_ERR_AUTH_TWICE] = "503 5.5.4 Error: multiple AUTH= options",
    [SMTP_ARGS_ERR_NOTIFY] = "501 5.5.4 Error: Bad NOTIFY parameter syntax",
    [SMTP_ARGS_ERR_ORCPT] = "501 5.5.4 Error: Bad ORCPT parameter syntax",
    [SMTP_ARGS_ERR_UTF8_UNDECLARED] = "553 5.6.7 Must declare SMTPUTF8 to send unicode address",
};

void smtp_args_reply(strbuf *out, const smtp_args *args)
{
    int     status = args->status;

    if (status <= SMTP_ARGS_ERR_ADDRESS) {
        strbuf_append_str(out, args->kind == SMTP_ARGS_MAIL ?
                          mail_replies[status] : rcpt_replies[status]);
        return;
    }
    strbuf_append_str(out, param_replies[status]);
    if (status == SMTP_ARGS_ERR_UNSUPPORTED)
        sanitize_printable(out, args->bad_param->data, args->bad_param->len);
}

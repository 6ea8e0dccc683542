/*
 * mail_params - every main.cf parameter, declared once.
 *
 * The declarations live in params/<area>.def (see params/all.def for the
 * macro forms). This header turns each into an `extern var_<name>`;
 * mail_params.c turns each into the variable and an entry of param_table,
 * which postconf -d prints and params_load() evaluates.
 *
 * params_load() (after config_init()) sets every var_ from main.cf, -o
 * overrides and the defaults, $-expanded; a value that does not parse for its
 * type (or is out of range) is fatal, naming the parameter.
 */
#ifndef POSTERN_MAIL_PARAMS_H
#define POSTERN_MAIL_PARAMS_H

#include "paths.h"

#define POSTERN_VERSION "0.1.0"

enum param_type {
    PARAM_T_STR, PARAM_T_RAW, PARAM_T_INT, PARAM_T_LONG, PARAM_T_BOOL, PARAM_T_TIME,
};

typedef struct param_def {
    const char *name;
    enum param_type type;
    const char *default_text;           /* NULL when computed */
    const char *(*default_fn)(void);    /* computes the default, or NULL */
    void   *variable;                   /* char **, int * or long * */
    long    min;
    long    max;                        /* 0: no upper limit */
} param_def;

extern const param_def param_table[];
extern const size_t param_table_size;

#define PARAM_STR(n, d)                 extern char *var_##n;
#define PARAM_RAW(n, d)                 extern char *var_##n;
#define PARAM_FUNC(n, f)                extern char *var_##n;
#define PARAM_INT(n, d, lo, hi)         extern int var_##n;
#define PARAM_LONG(n, d, lo, hi)        extern long var_##n;
#define PARAM_BOOL(n, d)                extern int var_##n;
#define PARAM_TIME(n, d, lo, hi)        extern int var_##n;
#include "params/all.def"
#undef PARAM_STR
#undef PARAM_RAW
#undef PARAM_FUNC
#undef PARAM_INT
#undef PARAM_LONG
#undef PARAM_BOOL
#undef PARAM_TIME

const param_def *param_find(const char *name);
const char *param_default_text(const param_def *param);
void params_load(void);

int  param_parse_bool(const char *text, int *value);
int  param_parse_time(const char *text, int default_unit, long *seconds);
int  param_parse_long(const char *text, long *value);
int  param_time_unit(const param_def *param);

/* Computed defaults (mail_params_default.c). */
const char *param_default_config_directory(void);
const char *param_default_myhostname(void);
const char *param_default_mydomain(void);
const char *param_default_mynetworks(void);

#endif

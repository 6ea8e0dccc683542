/*
 * config - main.cf: reading, -o overrides, $-expansion of parameter values.
 *
 * conf_file_read() parses one main.cf: "name = value" logical lines, where a
 * line starting with white space continues the previous one (joined with one
 * space), and blank lines and lines whose first non-blank character is '#'
 * are ignored. A syntax error fails with "FILE, line N: reason" in `error`.
 * Problems that Postfix only warns about (a first line that starts with white
 * space, a parameter set twice) are collected in `warnings`.
 *
 * The process-wide configuration: config_init() finds the directory (the
 * argument, else $MAIL_CONFIG, else the compiled-in default), reads main.cf
 * (fatal on error) and keeps it. A value is looked up in the -o overrides,
 * then main.cf, then the declared default (mail_params); config_eval()
 * expands $name references recursively, with loop detection.
 *
 * Returned `const char *` values belong to the configuration and stay valid
 * until the next config_init() or override of that name.
 */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include "argv.h"
#include "htable.h"
#include "strbuf.h"

typedef struct conf_entry {
    char   *name;
    char   *value;
    int     line;
} conf_entry;

typedef struct conf_file {
    char   *path;
    conf_entry *entries;                /* in file order, last setting wins */
    size_t  count;
    size_t  cap;
    htable *index;                      /* name -> conf_entry * (last one) */
    argv_t *warnings;
} conf_file;

conf_file *conf_file_read(const char *path, strbuf *error);
conf_file *conf_file_parse(const char *path, const char *text, strbuf *error);
void    conf_file_free(conf_file *cf);
const conf_entry *conf_file_find(const conf_file *cf, const char *name);

void    config_init(const char *directory);
const char *config_dir(void);
const char *config_main_cf_path(void);
const conf_file *config_main_cf(void);
void    config_set_override(const char *name, const char *value);
int     config_parse_override(const char *assignment);
const char *config_lookup_raw(const char *name);
const char *config_lookup_raw_or_default(const char *name);
int     config_eval(const char *name, strbuf *out);
int     config_expand(const char *text, strbuf *out);
const char *config_last_error(void);
void    config_set_undefined_hook(void (*hook)(const char *name));
int     config_name_valid(const char *name);

#endif

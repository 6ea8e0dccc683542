/*
 * postconf - internal interfaces between the postconf modules.
 *
 * postconf.c parses options and dispatches; postconf_print.c prints main.cf
 * parameters (-n, -d, -h, -x and the unused/undefined warnings);
 * postconf_edit.c edits main.cf in place (-e, -X, -#); postconf_master.c
 * prints master.cf entries (-M). Each returns an exit status.
 */
#ifndef POSTERN_POSTCONF_H
#define POSTERN_POSTCONF_H

#include "argv.h"
#include "main_cf_edit.h"

#define PC_SHOW_NONDEFAULT  (1 << 0)    /* -n */
#define PC_SHOW_DEFAULTS    (1 << 1)    /* -d */
#define PC_HIDE_NAME        (1 << 2)    /* -h */
#define PC_EXPAND           (1 << 3)    /* -x */
#define PC_FOLD             (1 << 4)    /* -f */


int postconf_print(int flags, char **names);
int postconf_edit_main_cf(const char *path, enum main_cf_edit mode, char **args);
int postconf_print_master(int flags, char **services);

#endif

/*
 * master_cf - read master.cf, the service table.
 *
 * Each logical line (continuation lines start with white space; '#' lines
 * and blank lines are ignored) has the fields
 *     service type private unpriv chroot wakeup maxproc command [args...]
 * where "-" selects the default (private y, unpriv y, chroot n, wakeup 0,
 * maxproc $default_process_limit). type is inet, unix, unix-dgram, fifo or
 * pass; wakeup is a number of seconds, optionally followed by '?' (wake only
 * while a process runs). Arguments may be grouped in "{ ... }" to contain
 * white space; "-o name=value" arguments are also collected in `overrides`.
 *
 * master_cf_read() returns the services in file order, or NULL with
 * "FILE, line N: reason" in `error`. raw[] keeps each field as written, for
 * postconf -M. Duplicate service/type pairs are an error.
 */
#ifndef POSTERN_MASTER_CF_H
#define POSTERN_MASTER_CF_H

#include "argv.h"
#include "strbuf.h"

#define MASTER_CF_FIELDS  7              /* before the command */
#define MASTER_MAXPROC_DEFAULT  (-1)

typedef struct master_service {
    char   *raw[MASTER_CF_FIELDS];
    char   *name;                       /* raw[0] */
    char   *type;                       /* raw[1] */
    int     private_socket;
    int     unprivileged;
    int     chroot;
    int     wakeup;                     /* seconds, 0 = none */
    int     wakeup_only_when_used;      /* the '?' suffix */
    int     maxproc;                    /* MASTER_MAXPROC_DEFAULT or >= 0 */
    argv_t *command;                    /* program name and its arguments */
    argv_t *overrides;                  /* "name=value" from -o arguments */
    int     line;
} master_service;

typedef struct master_cf {
    char   *path;
    master_service *services;
    size_t  count;
} master_cf;

master_cf *master_cf_read(const char *path, strbuf *error);
master_cf *master_cf_parse(const char *path, const char *text, strbuf *error);
void    master_cf_free(master_cf *mcf);
const master_service *master_cf_find(const master_cf *mcf, const char *name, const char *type);
int     master_cf_valid_type(const char *type);

#endif

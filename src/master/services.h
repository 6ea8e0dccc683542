/*
 * services - what master runs: master.cf entries resolved against main.cf.
 *
 * service_table_build() turns a parsed master.cf into service definitions:
 * the program path (daemon_directory/command; a command name containing '/'
 * is an error), the argument vector master passes (the skeleton's options
 * -n, -t, -u, -c, -s, -v, then the master.cf arguments), the process limit
 * ("-" becomes default_process_limit, 0 means no limit) and the listening
 * endpoints:
 *
 *   inet        one endpoint per address: the service name's host part
 *               ("127.0.0.1:2525", "[::1]:smtp", "*:25") or else each
 *               inet_interfaces entry ("all", "loopback-only", addresses,
 *               host names), limited to the address families allowed;
 *               port names come from /etc/services and become numbers
 *   unix, pass, unix-dgram, fifo
 *               queue_directory/private/NAME or public/NAME (private
 *               column); NAME must not contain '/'
 *
 * Services listed in master_service_disable ("type" or "name.type") are
 * left out. It reads var_daemon_directory, var_queue_directory,
 * var_inet_interfaces, var_default_process_limit, var_master_service_disable
 * and msg_verbose (each level adds one -v).
 *
 * Each endpoint has a `key` ("127.0.0.1:2525", "[::]:25" or the socket path)
 * that identifies it: master keeps a listening socket across a reload when
 * the key is unchanged, and uses it in log messages.
 *
 * Errors: NULL with "FILE, line N: reason" in `error`. Things Postfix merely
 * ignores (a wakeup time on an inet service) are put in table->warnings.
 * The table owns everything in it; service_table_take() hands one
 * definition over to the caller (free it with service_def_free()).
 *
 * service_parse_protocols() reads inet_protocols ("all", "ipv4", "ipv6",
 * or a list) into SERVICE_IPV4 | SERVICE_IPV6 bits; -1 with a reason.
 */
#ifndef POSTERN_SERVICES_H
#define POSTERN_SERVICES_H

#include <stddef.h>

#include "argv.h"
#include "master_cf.h"
#include "strbuf.h"

typedef enum service_kind {
    SERVICE_INET, SERVICE_UNIX, SERVICE_UNIX_DGRAM, SERVICE_FIFO, SERVICE_PASS,
} service_kind;

#define SERVICE_IPV4  (1 << 0)
#define SERVICE_IPV6  (1 << 1)

typedef struct service_endpoint {
    char   *key;                        /* identity and log text */
    int     family;                     /* AF_INET, AF_INET6 or AF_UNIX */
    char   *host;                       /* inet: numeric address, "" = any */
    char   *port;                       /* inet: decimal port number */
    char   *path;                       /* other kinds: absolute socket path */
} service_endpoint;

typedef struct service_def {
    char   *name;
    char   *type;
    service_kind kind;
    int     private_socket;
    int     unprivileged;
    int     chroot;
    int     wakeup;                     /* seconds, 0 = none */
    int     wakeup_conditional;         /* only while a process runs */
    int     maxproc;                    /* 0 = no limit */
    char   *path;                       /* program to run */
    argv_t *argv;                       /* its argument vector, argv[0] included */
    service_endpoint *endpoints;
    size_t  endpoint_count;
    int     line;                       /* in master.cf */
} service_def;

typedef struct service_table {
    service_def **services;             /* NULL where taken */
    size_t  count;
    argv_t *warnings;
} service_table;

service_table *service_table_build(const master_cf *mcf, int families, strbuf *error);
void    service_table_free(service_table *table);
service_def *service_table_take(service_table *table, size_t index);
void    service_def_free(service_def *def);
int     service_parse_protocols(const char *text, int *families, strbuf *why);

#endif

/*
 * services - master.cf entries resolved against main.cf. See services.h.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "services.h"
#include "sock.h"

static const struct {
    const char *type;
    service_kind kind;
} service_kinds[] = {
    {"inet", SERVICE_INET},
    {"unix", SERVICE_UNIX},
    {"unix-dgram", SERVICE_UNIX_DGRAM},
    {"fifo", SERVICE_FIFO},
    {"pass", SERVICE_PASS},
};

int service_parse_protocols(const char *text, int *families, strbuf *why)
{
    argv_t *words = argv_split(text, ARGV_LIST_DELIMITERS);
    int     result = 0;

    *families = 0;
    for (size_t i = 0; i < words->count && result == 0; i++) {
        if (strcmp(words->items[i], "all") == 0)
            *families |= SERVICE_IPV4 | SERVICE_IPV6;
        else if (strcmp(words->items[i], "ipv4") == 0)
            *families |= SERVICE_IPV4;
        else if (strcmp(words->items[i], "ipv6") == 0)
            *families |= SERVICE_IPV6;
        else {
            strbuf_printf(why, "bad inet_protocols value \"%s\"", words->items[i]);
            result = -1;
        }
    }
    argv_free(words);
    if (result == 0 && *families == 0) {
        strbuf_set(why, "inet_protocols selects no protocol");
        result = -1;
    }
    return result;
}

/* Endpoint lists --------------------------------------------------------- */

static void add_endpoint(service_def *def, service_endpoint *ep)
{
    for (size_t i = 0; i < def->endpoint_count; i++) {
        if (strcmp(def->endpoints[i].key, ep->key) == 0) {
            free(ep->key);
            free(ep->host);
            free(ep->port);
            free(ep->path);
            return;
        }
    }
    def->endpoints = xreallocarray(def->endpoints, def->endpoint_count + 1,
                                   sizeof(service_endpoint));
    def->endpoints[def->endpoint_count++] = *ep;
}

static void add_inet(service_def *def, int family, const char *host, const char *port)
{
    service_endpoint ep = {0};
    strbuf *key = strbuf_new(64);
    const char *shown = *host ? host : family == AF_INET6 ? "::" : "0.0.0.0";

    if (family == AF_INET6)
        strbuf_printf(key, "[%s]:%s", shown, port);
    else
        strbuf_printf(key, "%s:%s", shown, port);
    ep.key = strbuf_steal(key);
    ep.family = family;
    ep.host = xstrdup(host);
    ep.port = xstrdup(port);
    add_endpoint(def, &ep);
}

static int family_allowed(int family, int families)
{
    return (family == AF_INET && (families & SERVICE_IPV4))
        || (family == AF_INET6 && (families & SERVICE_IPV6));
}

static void add_wildcards(service_def *def, int families, const char *port)
{
    if (families & SERVICE_IPV4)
        add_inet(def, AF_INET, "", port);
    if (families & SERVICE_IPV6)
        add_inet(def, AF_INET6, "", port);
}

/* Adds every address of HOST (numeric or a name) in the allowed families. */
static int add_host(service_def *def, const char *host, int families, const char *port,
                    strbuf *why)
{
    struct addrinfo hints = {0};
    struct addrinfo *res = NULL;
    char    bare[NI_MAXHOST];
    size_t  len = strlen(host);
    int     found = 0;

    if (host[0] == '[') {
        if (len < 3 || host[len - 1] != ']' || len - 2 >= sizeof(bare)) {
            strbuf_printf(why, "bad address \"%s\"", host);
            return -1;
        }
        memcpy(bare, host + 1, len - 2);
        bare[len - 2] = 0;
        host = bare;
        hints.ai_flags = AI_NUMERICHOST;
    }
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) {
        strbuf_printf(why, "unable to resolve \"%s\"", host);
        return -1;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char    text[NI_MAXHOST];

        if (!family_allowed(ai->ai_family, families))
            continue;
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof(text), NULL, 0,
                        NI_NUMERICHOST) == 0) {
            add_inet(def, ai->ai_family, text, port);
            found = 1;
        }
    }
    freeaddrinfo(res);
    if (!found) {
        strbuf_printf(why, "\"%s\" has no address in the enabled inet_protocols", host);
        return -1;
    }
    return 0;
}

static int add_interfaces(service_def *def, int families, const char *port, strbuf *why)
{
    argv_t *list = argv_split(var_inet_interfaces, ARGV_LIST_DELIMITERS);
    int     result = 0;

    if (list->count == 0) {
        strbuf_set(why, "inet_interfaces is empty");
        result = -1;
    }
    for (size_t i = 0; i < list->count && result == 0; i++) {
        const char *item = list->items[i];

        if (strcmp(item, "all") == 0)
            add_wildcards(def, families, port);
        else if (strcmp(item, "loopback-only") == 0) {
            if (families & SERVICE_IPV4)
                add_inet(def, AF_INET, "127.0.0.1", port);
            if (families & SERVICE_IPV6)
                add_inet(def, AF_INET6, "::1", port);
        } else
            result = add_host(def, item, families, port, why);
    }
    argv_free(list);
    return result;
}

/* Splits an inet service name into host (NULL: none given) and port. */
static int split_inet_name(const char *name, strbuf *host, strbuf *port, int *has_host,
                           strbuf *why)
{
    const char *colon;

    *has_host = 0;
    if (name[0] == '[') {
        const char *close = strchr(name, ']');

        if (close == NULL || close[1] != ':') {
            strbuf_printf(why, "bad inet service name \"%s\"", name);
            return -1;
        }
        strbuf_set_mem(host, name, (size_t) (close - name) + 1);
        colon = close + 1;
        *has_host = 1;
    } else if ((colon = strrchr(name, ':')) != NULL) {
        strbuf_set_mem(host, name, (size_t) (colon - name));
        *has_host = 1;
    } else {
        colon = name - 1;
    }
    strbuf_set(port, colon + 1);
    if (port->len == 0) {
        strbuf_printf(why, "missing port in inet service name \"%s\"", name);
        return -1;
    }
    return 0;
}

static int inet_endpoints(service_def *def, int families, strbuf *why)
{
    strbuf *host = strbuf_new(64);
    strbuf *port = strbuf_new(16);
    char    number[16];
    int     has_host;
    int     result;

    result = split_inet_name(def->name, host, port, &has_host, why);
    if (result == 0) {
        int     value = sock_port_number(port->data);

        if (value < 0) {
            strbuf_printf(why, "unknown service port \"%s\"", port->data);
            result = -1;
        } else {
            snprintf(number, sizeof(number), "%d", value);
        }
    }
    if (result == 0) {
        if (!has_host)
            result = add_interfaces(def, families, number, why);
        else if (host->len == 0 || strcmp(host->data, "*") == 0)
            add_wildcards(def, families, number);
        else
            result = add_host(def, host->data, families, number, why);
    }
    strbuf_free(host);
    strbuf_free(port);
    return result;
}

static int local_endpoint(service_def *def, strbuf *why)
{
    service_endpoint ep = {0};
    strbuf *path = strbuf_new(128);

    if (strchr(def->name, '/') || strcmp(def->name, ".") == 0
        || strcmp(def->name, "..") == 0) {
        strbuf_printf(why, "service name \"%s\" must not contain \"/\"", def->name);
        strbuf_free(path);
        return -1;
    }
    strbuf_printf(path, "%s/%s/%s", var_queue_directory,
                  def->private_socket ? "private" : "public", def->name);
    ep.family = AF_UNIX;
    ep.path = xstrdup(path->data);
    ep.key = strbuf_steal(path);
    add_endpoint(def, &ep);
    return 0;
}

/* Definitions ------------------------------------------------------------ */

void service_def_free(service_def *def)
{
    if (def == NULL)
        return;
    for (size_t i = 0; i < def->endpoint_count; i++) {
        free(def->endpoints[i].key);
        free(def->endpoints[i].host);
        free(def->endpoints[i].port);
        free(def->endpoints[i].path);
    }
    free(def->endpoints);
    free(def->name);
    free(def->type);
    free(def->path);
    argv_free(def->argv);
    free(def);
}

static void build_argv(service_def *def, const master_service *entry)
{
    const char *command = entry->command->items[0];
    char    count[16];

    def->argv = argv_new(entry->command->count + 8);
    argv_add(def->argv, command);
    if (strcmp(def->name, command) != 0) {
        argv_add(def->argv, "-n");
        argv_add(def->argv, def->name);
    }
    argv_add(def->argv, "-t");
    argv_add(def->argv, def->type);
    if (def->unprivileged)
        argv_add(def->argv, "-u");
    if (def->chroot)
        argv_add(def->argv, "-c");
    if (def->endpoint_count != 1) {
        snprintf(count, sizeof(count), "%zu", def->endpoint_count);
        argv_add(def->argv, "-s");
        argv_add(def->argv, count);
    }
    for (int i = 0; i < msg_verbose; i++)
        argv_add(def->argv, "-v");
    for (size_t i = 1; i < entry->command->count; i++)
        argv_add(def->argv, entry->command->items[i]);
}

static service_kind kind_of(const char *type)
{
    for (size_t i = 0; i < sizeof(service_kinds) / sizeof(service_kinds[0]); i++)
        if (strcmp(service_kinds[i].type, type) == 0)
            return service_kinds[i].kind;
    msg_panic("service kind: unknown type \"%s\"", type);
}

static void note_ignored_wakeup(service_table *table, const char *path, service_def *def)
{
    strbuf *text = strbuf_new(128);

    strbuf_printf(text, "%s, line %d: wakeup time is ignored for %s service \"%s\"",
                  path, def->line, def->type, def->name);
    argv_add(table->warnings, text->data);
    strbuf_free(text);
    def->wakeup = 0;
    def->wakeup_conditional = 0;
}

static service_def *build_def(const master_service *entry, int families, strbuf *why)
{
    service_def *def = xcalloc(1, sizeof(*def));
    const char *command = entry->command->items[0];
    strbuf *path;
    int     result;

    def->name = xstrdup(entry->name);
    def->type = xstrdup(entry->type);
    def->kind = kind_of(entry->type);
    def->private_socket = entry->private_socket;
    def->unprivileged = entry->unprivileged;
    def->chroot = entry->chroot;
    def->wakeup = entry->wakeup;
    def->wakeup_conditional = entry->wakeup_only_when_used;
    def->maxproc = entry->maxproc == MASTER_MAXPROC_DEFAULT ?
        var_default_process_limit : entry->maxproc;
    def->line = entry->line;
    if (strchr(command, '/')) {
        strbuf_printf(why, "command name \"%s\" must not contain \"/\": programs "
                      "are run from daemon_directory only", command);
        service_def_free(def);
        return NULL;
    }
    path = strbuf_new(128);
    strbuf_printf(path, "%s/%s", var_daemon_directory, command);
    def->path = strbuf_steal(path);
    result = def->kind == SERVICE_INET ?
        inet_endpoints(def, families, why) : local_endpoint(def, why);
    if (result < 0) {
        service_def_free(def);
        return NULL;
    }
    build_argv(def, entry);
    return def;
}

static int service_disabled(const master_service *entry, const argv_t *disabled)
{
    for (size_t i = 0; i < disabled->count; i++) {
        const char *item = disabled->items[i];
        size_t  name_len = strlen(entry->name);

        if (strcmp(item, entry->type) == 0)
            return 1;
        if (strncmp(item, entry->name, name_len) == 0 && item[name_len] == '.'
            && strcmp(item + name_len + 1, entry->type) == 0)
            return 1;
    }
    return 0;
}

service_table *service_table_build(const master_cf *mcf, int families, strbuf *error)
{
    service_table *table = xcalloc(1, sizeof(*table));
    argv_t *disabled = argv_split(var_master_service_disable, ARGV_LIST_DELIMITERS);
    strbuf *why = strbuf_new(128);

    table->warnings = argv_new(4);
    for (size_t i = 0; i < mcf->count; i++) {
        const master_service *entry = &mcf->services[i];
        service_def *def;

        if (service_disabled(entry, disabled))
            continue;
        if ((def = build_def(entry, families, why)) == NULL) {
            strbuf_printf(error, "%s, line %d: %s", mcf->path, entry->line, why->data);
            service_table_free(table);
            table = NULL;
            break;
        }
        if (def->wakeup && (def->kind == SERVICE_INET || def->kind == SERVICE_PASS))
            note_ignored_wakeup(table, mcf->path, def);
        table->services = xreallocarray(table->services, table->count + 1,
                                        sizeof(service_def *));
        table->services[table->count++] = def;
    }
    argv_free(disabled);
    strbuf_free(why);
    return table;
}

service_def *service_table_take(service_table *table, size_t index)
{
    service_def *def = table->services[index];

    table->services[index] = NULL;
    return def;
}

void service_table_free(service_table *table)
{
    if (table == NULL)
        return;
    for (size_t i = 0; i < table->count; i++)
        service_def_free(table->services[i]);
    free(table->services);
    argv_free(table->warnings);
    free(table);
}

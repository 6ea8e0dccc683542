/*
 * mail_params_default - parameter defaults computed from the system.
 *
 * As Postfix: myhostname is gethostname(); a name without a dot gets
 * ".$mydomain" (main.cf's mydomain when literal, else "localdomain").
 * mydomain is $myhostname minus its first label ("localdomain" when there is
 * only one). mynetworks follows mynetworks_style: "host" lists each interface
 * address (/32, /128), "subnet" and "class" each interface's network.
 * Each value is computed once per process.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "argv.h"
#include "config.h"
#include "mail_params.h"
#include "mem.h"
#include "strbuf.h"

const char *param_default_config_directory(void)
{
    return config_dir();
}

const char *param_default_myhostname(void)
{
    static char *name;
    char    host[256];
    const char *domain;

    if (name)
        return name;
    if (gethostname(host, sizeof(host)) < 0 || host[0] == 0)
        strcpy(host, "localhost");
    host[sizeof(host) - 1] = 0;
    if (strchr(host, '.')) {
        name = xstrdup(host);
        return name;
    }
    domain = config_lookup_raw("mydomain");
    if (domain == NULL || *domain == 0 || strchr(domain, '$'))
        domain = "localdomain";
    name = xmalloc(strlen(host) + strlen(domain) + 2);
    strcpy(name, host);
    strcat(name, ".");
    strcat(name, domain);
    return name;
}

const char *param_default_mydomain(void)
{
    static char *domain;
    strbuf *host;
    const char *dot;

    if (domain)
        return domain;
    host = strbuf_new(64);
    if (config_eval("myhostname", host) == 0 && (dot = strchr(host->data, '.')) && dot[1])
        domain = xstrdup(dot + 1);
    else
        domain = xstrdup("localdomain");
    strbuf_free(host);
    return domain;
}

static int prefix_length(const unsigned char *mask, size_t bytes)
{
    int     bits = 0;

    for (size_t i = 0; i < bytes; i++)
        for (int b = 7; b >= 0 && (mask[i] >> b) & 1; b--)
            bits++;
    return bits;
}

static void apply_mask(unsigned char *addr, size_t bytes, int bits)
{
    for (size_t i = 0; i < bytes; i++) {
        int     keep = bits >= 8 ? 8 : bits > 0 ? bits : 0;

        addr[i] &= (unsigned char) (0xff << (8 - keep));
        bits -= keep;
    }
}

/* Renders one interface address as a mynetworks entry. */
static void network_text(const struct ifaddrs *ifa, int host_style, strbuf *out)
{
    unsigned char addr[16];
    char    text[INET6_ADDRSTRLEN];
    int     family = ifa->ifa_addr->sa_family;
    size_t  bytes = family == AF_INET ? 4 : 16;
    int     bits;

    if (family == AF_INET) {
        memcpy(addr, &((struct sockaddr_in *) ifa->ifa_addr)->sin_addr, 4);
        bits = ifa->ifa_netmask ?
            prefix_length((unsigned char *) &((struct sockaddr_in *) ifa->ifa_netmask)->sin_addr, 4) : 32;
    } else {
        memcpy(addr, &((struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr, 16);
        bits = ifa->ifa_netmask ?
            prefix_length((unsigned char *) &((struct sockaddr_in6 *) ifa->ifa_netmask)->sin6_addr, 16) : 128;
    }
    if (host_style)
        bits = (int) bytes * 8;
    apply_mask(addr, bytes, bits);
    inet_ntop(family, addr, text, sizeof(text));
    if (family == AF_INET)
        strbuf_printf(out, "%s/%d", text, bits);
    else
        strbuf_printf(out, "[%s]/%d", text, bits);
}

const char *param_default_mynetworks(void)
{
    static char *networks;
    struct ifaddrs *list = NULL;
    strbuf *style;
    strbuf *entry;
    argv_t *seen;
    strbuf *result;
    int     host_style;

    if (networks)                       /* computed once: other defaults refer to it */
        return networks;
    style = strbuf_new(16);
    entry = strbuf_new(64);
    seen = argv_new(8);
    result = strbuf_new(128);
    config_eval("mynetworks_style", style);
    host_style = strcmp(style->data, "subnet") != 0 && strcmp(style->data, "class") != 0;
    if (getifaddrs(&list) == 0) {
        for (struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next) {
            if (ifa->ifa_addr == NULL || (ifa->ifa_addr->sa_family != AF_INET
                                          && ifa->ifa_addr->sa_family != AF_INET6))
                continue;
            network_text(ifa, host_style, entry);
            if (argv_contains(seen, entry->data))
                continue;
            argv_add(seen, entry->data);
            if (result->len)
                strbuf_append_char(result, ' ');
            strbuf_append(result, entry->data, entry->len);
        }
        freeifaddrs(list);
    }
    if (result->len == 0)
        strbuf_set(result, "127.0.0.1/32 [::1]/128");
    networks = strbuf_steal(result);
    strbuf_free(style);
    strbuf_free(entry);
    argv_free(seen);
    return networks;
}

/*
 * smtpd_peer - who the client is: address, port, and a verified host name.
 *
 * smtpd_peer_init() fills the session's client fields. The address comes
 * from getpeername() (an IPv4-mapped IPv6 address is shown as IPv4, as
 * Postfix does); rfc_addr is the form for Received: ("IPv6:..." for IPv6).
 * With smtpd_peername_lookup the PTR name of the address is looked up
 * (reverse_name) and accepted as the client's name only when it is a valid
 * host name that resolves back to the same address; otherwise the name is
 * "unknown" and name_status says why (PEER_NAME_TEMP for a lookup that may
 * work later, PEER_NAME_PERM for no name, PEER_NAME_FORGED for a name that
 * does not lead back), which reject_unknown_client_hostname uses. Names are
 * lowercased. namaddr is "name[addr]" for log lines (":port" added with
 * smtpd_client_port_logging).
 */
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "mail_params.h"
#include "msg.h"
#include "smtpd.h"
#include "sock.h"
#include "valid_hostname.h"

#define MAPPED_PREFIX "::ffff:"

static void address_of(int fd, int peer, strbuf *addr, strbuf *port, int *family)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int     status = peer ? getpeername(fd, (struct sockaddr *) &ss, &len)
        : getsockname(fd, (struct sockaddr *) &ss, &len);

    if (status < 0 || sock_addr_text((struct sockaddr *) &ss, len, addr, port) < 0) {
        strbuf_set(addr, "unknown");
        strbuf_set(port, "unknown");
        *family = AF_UNSPEC;
        return;
    }
    *family = ss.ss_family;
    if (*family == AF_INET6 && strncmp(addr->data, MAPPED_PREFIX, strlen(MAPPED_PREFIX)) == 0
        && strchr(addr->data, '.')) {
        strbuf *v4 = strbuf_from(addr->data + strlen(MAPPED_PREFIX));

        strbuf_set(addr, v4->data);
        strbuf_free(v4);
        *family = AF_INET;
    }
}

/* Does `name` resolve to `addr`? 1 yes, 0 no, -1 lookup failed (why). */
static int forward_confirmed(const char *name, const char *addr, int *temporary,
                             const char **why)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    int     found = 0;
    int     err;

    if ((err = getaddrinfo(name, NULL, &hints, &res)) != 0) {
        *temporary = (err == EAI_AGAIN);
        *why = gai_strerror(err);
        return -1;
    }
    for (struct addrinfo *ai = res; ai && !found; ai = ai->ai_next) {
        strbuf *text = strbuf_new(64);
        strbuf *unused = strbuf_new(8);

        if (sock_addr_text(ai->ai_addr, ai->ai_addrlen, text, unused) == 0)
            found = strcmp(text->data, addr) == 0;
        strbuf_free(text);
        strbuf_free(unused);
    }
    freeaddrinfo(res);
    return found;
}

static void lookup_name(smtpd_state *state, const struct sockaddr *sa, socklen_t len)
{
    char    host[NI_MAXHOST];
    int     err = getnameinfo(sa, len, host, sizeof(host), NULL, 0, NI_NAMEREQD);
    int     temporary = 0;
    const char *why = NULL;
    int     confirmed;

    if (err != 0) {
        state->name_status = (err == EAI_AGAIN) ? PEER_NAME_TEMP : PEER_NAME_PERM;
        return;
    }
    if (!valid_hostname(host, strlen(host), HOSTNAME_ALLOW_UNDERSCORE)) {
        msg_warn("%s: malformed PTR name \"%.100s\"", state->addr->data, host);
        state->name_status = PEER_NAME_PERM;
        return;
    }
    strbuf_set(state->reverse_name, host);
    strbuf_lowercase(state->reverse_name);
    confirmed = forward_confirmed(state->reverse_name->data, state->addr->data, &temporary, &why);
    if (confirmed > 0) {
        strbuf_set(state->name, state->reverse_name->data);
        state->name_status = PEER_NAME_OK;
    } else if (confirmed < 0) {
        msg_warn("hostname %s does not resolve to address %s: %s",
                 state->reverse_name->data, state->addr->data, why);
        state->name_status = temporary ? PEER_NAME_TEMP : PEER_NAME_FORGED;
    } else {
        msg_warn("hostname %s does not resolve to address %s",
                 state->reverse_name->data, state->addr->data);
        state->name_status = PEER_NAME_FORGED;
    }
}

void smtpd_peer_init(smtpd_state *state)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int     server_family;

    address_of(state->client->fd, 1, state->addr, state->port, &state->family);
    address_of(state->client->fd, 0, state->server_addr, state->server_port, &server_family);
    strbuf_set(state->name, "unknown");
    strbuf_set(state->reverse_name, "unknown");
    state->name_status = PEER_NAME_PERM;
    if (state->family == AF_INET6)
        strbuf_printf(state->rfc_addr, "IPv6:%s", state->addr->data);
    else
        strbuf_set(state->rfc_addr, state->addr->data);
    if (var_smtpd_peername_lookup && state->family != AF_UNSPEC
        && getpeername(state->client->fd, (struct sockaddr *) &ss, &len) == 0)
        lookup_name(state, (struct sockaddr *) &ss, len);
    strbuf_printf(state->namaddr, "%s[%s]", state->name->data, state->addr->data);
    if (var_smtpd_client_port_logging)
        strbuf_append_printf(state->namaddr, ":%s", state->port->data);
}

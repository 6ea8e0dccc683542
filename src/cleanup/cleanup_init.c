/*
 * cleanup_init - cleanup's tables and settings, opened once per process.
 *
 * cleanup_tables_open() opens every table parameter the daemon uses
 * (canonical, virtual alias, BCC and content check tables, the
 * masquerade_exceptions list) and parses the class lists. The daemon calls
 * it as root before the chroot; unit tests call it after setting var_*.
 * A table that cannot be opened stays in its list, broken: lookups that
 * reach it fail and the message is deferred (maps.h). When a check
 * parameter has the same value as header_checks (mime_header_checks and
 * nested_header_checks default to $header_checks), the tables are shared.
 * cleanup_tables_close() releases everything.
 *
 * cleanup_parse_classes(param, value) turns "envelope_sender, header_sender,
 * ..." into CLEANUP_CLASS_* bits; an unknown name is logged and ignored.
 */
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "mail_params.h"
#include "map.h"
#include "msg.h"

cleanup_tables cleanup_tab;

cleanup_services cleanup_svc = {
    .rewrite = rewrite_clnt,
    .resolve = resolve_clnt,
};

int     cleanup_parse_classes(const char *param, const char *value)
{
    static const struct {
        const char *name;
        int     bit;
    } names[] = {
        {"envelope_sender", CLEANUP_CLASS_ENV_FROM},
        {"envelope_recipient", CLEANUP_CLASS_ENV_RCPT},
        {"header_sender", CLEANUP_CLASS_HDR_FROM},
        {"header_recipient", CLEANUP_CLASS_HDR_RCPT},
    };
    argv_t *words = argv_split(value, ARGV_LIST_DELIMITERS);
    int     classes = 0;

    for (size_t i = 0; i < words->count; i++) {
        size_t  n;

        for (n = 0; n < sizeof(names) / sizeof(names[0]); n++)
            if (strcasecmp(words->items[i], names[n].name) == 0)
                break;
        if (n < sizeof(names) / sizeof(names[0]))
            classes |= names[n].bit;
        else
            msg_warn("%s: unknown address class \"%s\" ignored", param, words->items[i]);
    }
    argv_free(words);
    return classes;
}

/* A table list, or NULL when the parameter is empty. */
static maps_t *open_maps(const char *title, const char *value)
{
    return *value ? maps_open(title, value, MAP_FLAG_FOLD) : NULL;
}

static int list_has(const char *list, const char *word)
{
    argv_t *words = argv_split(list, ARGV_LIST_DELIMITERS);
    int     found = 0;

    for (size_t i = 0; i < words->count && !found; i++)
        found = strcasecmp(words->items[i], word) == 0;
    argv_free(words);
    return found;
}

static void open_check_tables(void)
{
    cleanup_tab.header_checks = open_maps("header_checks", var_header_checks);
    cleanup_tab.mime_header_checks = strcmp(var_mime_header_checks, var_header_checks) == 0 ?
        cleanup_tab.header_checks : open_maps("mime_header_checks", var_mime_header_checks);
    cleanup_tab.nested_header_checks = strcmp(var_nested_header_checks, var_header_checks) == 0 ?
        cleanup_tab.header_checks : open_maps("nested_header_checks", var_nested_header_checks);
    cleanup_tab.body_checks = open_maps("body_checks", var_body_checks);
}

void    cleanup_tables_open(void)
{
    cleanup_tables_close();
    cleanup_tab.canonical = open_maps("canonical_maps", var_canonical_maps);
    cleanup_tab.sender_canonical = open_maps("sender_canonical_maps", var_sender_canonical_maps);
    cleanup_tab.recipient_canonical = open_maps("recipient_canonical_maps",
                                                var_recipient_canonical_maps);
    cleanup_tab.virtual_alias = open_maps("virtual_alias_maps", var_virtual_alias_maps);
    cleanup_tab.sender_bcc = open_maps("sender_bcc_maps", var_sender_bcc_maps);
    cleanup_tab.recipient_bcc = open_maps("recipient_bcc_maps", var_recipient_bcc_maps);
    open_check_tables();
    cleanup_tab.masq_domains = argv_split(var_masquerade_domains, ARGV_LIST_DELIMITERS);
    cleanup_tab.masq_exceptions = *var_masquerade_exceptions ?
        string_list_new("masquerade_exceptions", var_masquerade_exceptions) : NULL;
    cleanup_tab.drop_headers = argv_split(var_message_drop_headers, ARGV_LIST_DELIMITERS);
    cleanup_tab.canonical_classes = cleanup_parse_classes("canonical_classes",
                                                          var_canonical_classes);
    cleanup_tab.sender_canonical_classes =
        cleanup_parse_classes("sender_canonical_classes", var_sender_canonical_classes);
    cleanup_tab.recipient_canonical_classes =
        cleanup_parse_classes("recipient_canonical_classes", var_recipient_canonical_classes);
    cleanup_tab.masq_classes = cleanup_parse_classes("masquerade_classes",
                                                     var_masquerade_classes);
    cleanup_tab.propagate_canonical = list_has(var_propagate_unmatched_extensions, "canonical");
    cleanup_tab.propagate_virtual = list_has(var_propagate_unmatched_extensions, "virtual");
}

static void free_maps(maps_t **maps)
{
    if (*maps)
        maps_free(*maps);
    *maps = NULL;
}

void    cleanup_tables_close(void)
{
    if (cleanup_tab.mime_header_checks == cleanup_tab.header_checks)
        cleanup_tab.mime_header_checks = NULL;
    if (cleanup_tab.nested_header_checks == cleanup_tab.header_checks)
        cleanup_tab.nested_header_checks = NULL;
    free_maps(&cleanup_tab.canonical);
    free_maps(&cleanup_tab.sender_canonical);
    free_maps(&cleanup_tab.recipient_canonical);
    free_maps(&cleanup_tab.virtual_alias);
    free_maps(&cleanup_tab.sender_bcc);
    free_maps(&cleanup_tab.recipient_bcc);
    free_maps(&cleanup_tab.header_checks);
    free_maps(&cleanup_tab.mime_header_checks);
    free_maps(&cleanup_tab.nested_header_checks);
    free_maps(&cleanup_tab.body_checks);
    if (cleanup_tab.masq_exceptions)
        match_list_free(cleanup_tab.masq_exceptions);
    argv_free(cleanup_tab.masq_domains);
    argv_free(cleanup_tab.drop_headers);
    memset(&cleanup_tab, 0, sizeof(cleanup_tab));
}

/*
 * match_list - Postfix "lists": mydestination, relay_domains, mynetworks,
 * debug_peer_list, authorized_submit_users and the like.
 *
 * A list is a parameter value: patterns separated by commas or white space.
 * Each pattern is tried in order and the first that matches decides:
 *
 *   !pattern     negation: a match means "not in the list", and stops
 *   /file/name   the patterns in the file (white space or comma separated,
 *                '#' starts a comment line); files may name files, to a
 *                depth of 10
 *   type:table   a lookup table; a key that is found matches (the value is
 *                not used)
 *   anything else, by the kind of list:
 *
 *   string list  a word, compared without regard to case
 *   domain list  "example.com" matches that name, and its subdomains when
 *                the list's parameter name is in
 *                parent_domain_matches_subdomains; ".example.com" matches
 *                subdomains only; a fixed-string table is asked for the
 *                name and then its parents ("sub.example.com",
 *                "example.com" or ".example.com", ...) in the same style;
 *                a pattern table for the name only
 *   host list    the client: host names and domains match its name as in a
 *                domain list; addresses and networks ("192.0.2.1",
 *                "10.0.0.0/8", "[2001:db8::1]", "[2001:db8::]/32") match
 *                its address; a table is asked for the name, then for the
 *                address
 *   address list addresses and networks only (mynetworks); a table is asked
 *                for the address
 *
 * IPv6 networks in lists are written inside brackets, as in Postfix, so
 * they are not mistaken for "type:table"; forms that parse unambiguously
 * as IPv6 ("::1", "2001:db8::/32") are accepted too.
 *
 * Results: 1 in the list, 0 not in it, MATCH_LIST_ERROR when the answer is
 * unknown (a table failed, or the list has a bad pattern, an unreadable
 * file or an unopenable table: such a list logs a warning when created and
 * answers every question with MATCH_LIST_ERROR, so its users defer rather
 * than decide wrongly). match_list_error() says why.
 *
 * Memory: the list owns its tables and strings; free with
 * match_list_free(). parent_matches_subdomains(name) tells whether `name`
 * is listed in parent_domain_matches_subdomains.
 */
#ifndef POSTERN_MATCH_LIST_H
#define POSTERN_MATCH_LIST_H

typedef struct match_list match_list;

#define MATCH_LIST_ERROR (-1)

match_list *string_list_new(const char *param_name, const char *patterns);
match_list *domain_list_new(const char *param_name, const char *patterns);
match_list *host_list_new(const char *param_name, const char *patterns);
match_list *addr_list_new(const char *param_name, const char *patterns);

int     string_list_match(match_list *list, const char *string);
int     domain_list_match(match_list *list, const char *domain);
int     host_list_match(match_list *list, const char *name, const char *addr);
int     addr_list_match(match_list *list, const char *addr);

const char *match_list_error(const match_list *list);
void    match_list_free(match_list *list);

int     parent_matches_subdomains(const char *param_name);

#endif

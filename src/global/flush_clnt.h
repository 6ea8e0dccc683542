/*
 * flush_clnt - the fast flush service client (docs/protocols.md, "flush"):
 * ETRN, postqueue -s, and qmgr telling which sites deferred mail waits for.
 *
 * flush_clnt_send_site(site) asks for the deferred mail of one site to be
 * delivered now. flush_clnt_add(site, queue_id) records that a deferred
 * message has a recipient at site (qmgr, when fast_flush_domains is set).
 * flush_clnt_request(request, name, value) sends any one-attribute request
 * ("refresh", "purge", "send_file" with queue_id). All return a
 * FLUSH_STAT_* code; FLUSH_STAT_FAIL when the service cannot be reached.
 */
#ifndef POSTERN_FLUSH_CLNT_H
#define POSTERN_FLUSH_CLNT_H

#define FLUSH_STAT_OK       0
#define FLUSH_STAT_UNKNOWN  1               /* site not eligible */
#define FLUSH_STAT_BAD      2
#define FLUSH_STAT_DENY     3
#define FLUSH_STAT_FAIL     4               /* no answer */

int flush_clnt_send_site(const char *site);
int flush_clnt_add(const char *site, const char *queue_id);
int flush_clnt_request(const char *request, const char *name, const char *value);

#endif

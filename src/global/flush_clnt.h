/*
 * flush_clnt - ask the flush service to deliver mail for a site now
 * (docs/protocols.md, "flush"): ETRN and postqueue -s.
 *
 * flush_clnt_send_site() returns a FLUSH_STAT_* code; FLUSH_STAT_FAIL
 * when the service cannot be reached.
 */
#ifndef POSTERN_FLUSH_CLNT_H
#define POSTERN_FLUSH_CLNT_H

#define FLUSH_STAT_OK       0
#define FLUSH_STAT_UNKNOWN  1               /* site not eligible */
#define FLUSH_STAT_BAD      2
#define FLUSH_STAT_DENY     3
#define FLUSH_STAT_FAIL     4               /* no answer */

int flush_clnt_send_site(const char *site);
int flush_clnt_request(const char *request, const char *name, const char *value);

#endif

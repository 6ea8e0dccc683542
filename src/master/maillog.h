/*
 * maillog - the maillog_file, as master and the postfix command open it.
 *
 * maillog_path_allowed() says whether a maillog_file value is acceptable:
 * it must be an absolute path that starts with one of the
 * maillog_file_prefixes entries (plain string prefixes, as in Postfix) and
 * has no ".." component. 0 ok; -1 with the reason in `why`.
 *
 * maillog_open() validates var_maillog_file and opens it O_APPEND (created
 * mode 0640) as the log destination of this process (msg_logfile_use_fd).
 * It returns 1 when a log file is in use, 0 when maillog_file is empty
 * (log to syslog), -1 with a reason in `why`.
 *
 * maillog_command_logging("postsuper") is how a command logs once its
 * configuration is read: as "$syslog_name/postsuper", to standard error and
 * to maillog_file, or to syslog when there is none (or it cannot be opened).
 */
#ifndef POSTERN_MAILLOG_H
#define POSTERN_MAILLOG_H

#include "strbuf.h"

int maillog_path_allowed(const char *path, const char *prefixes, strbuf *why);
int maillog_open(strbuf *why);
void maillog_command_logging(const char *program);

#endif

/*
 * access_result - what an access(5) table result means.
 *
 * access_result_parse(value, why) turns the text found in an access table
 * (smtpd_*_restrictions, check_*_access, header and body checks) into an
 * action and its arguments. It knows nothing of SMTP sessions: the caller
 * decides what each action does and which default reply codes apply.
 *
 *   OK [text], all-numerical    ACCESS_OK
 *   DUNNO                       ACCESS_DUNNO
 *   REJECT [text]               ACCESS_REJECT, code 0 (caller's default)
 *   5NN [text]                  ACCESS_REJECT, code 5NN
 *   DEFER [text]                ACCESS_DEFER, code 0
 *   4NN [text]                  ACCESS_DEFER, code 4NN
 *   DEFER_IF_REJECT [text]      ACCESS_DEFER_IF_REJECT
 *   DEFER_IF_PERMIT [text]      ACCESS_DEFER_IF_PERMIT
 *   DISCARD [text], HOLD [text], WARN [text], INFO [text]
 *   FILTER transport:destination    argument required, with a ':'
 *   REDIRECT user@domain, BCC user@domain   argument required
 *   PREPEND name: value         argument required, a header line
 *   anything else               ACCESS_RESTRICTIONS: the whole value is a
 *                               restriction list ("permit_mynetworks,
 *                               reject") for the caller to evaluate
 *
 * Keywords are case-insensitive and end at white space. For the reject and
 * defer actions an RFC 3463 enhanced status code at the start of the text
 * ("5.7.1 go away") is split off into `dsn`; a status whose class
 * disagrees with the action gets the action's class (4 for defer actions,
 * 5 for reject), as Postfix corrects it. A numeric reply code must be 4NN
 * or 5NN. An empty value, a missing or malformed required argument, a
 * reply code of another class, or a control character anywhere fail with
 * a reason in `why` (the value is not trusted: it may come from a $1
 * substitution).
 *
 * Memory: the result and its strings belong to the caller, freed with
 * access_result_free(). `text` is "" when the action has no text.
 */
#ifndef POSTERN_ACCESS_RESULT_H
#define POSTERN_ACCESS_RESULT_H

#include "strbuf.h"

enum access_action {
    ACCESS_OK,
    ACCESS_DUNNO,
    ACCESS_REJECT,
    ACCESS_DEFER,
    ACCESS_DEFER_IF_REJECT,
    ACCESS_DEFER_IF_PERMIT,
    ACCESS_DISCARD,
    ACCESS_HOLD,
    ACCESS_WARN,
    ACCESS_INFO,
    ACCESS_FILTER,
    ACCESS_REDIRECT,
    ACCESS_BCC,
    ACCESS_PREPEND,
    ACCESS_RESTRICTIONS,
};

typedef struct access_result {
    enum access_action action;
    int     code;                       /* 4NN/5NN given in the table, else 0 */
    char   *dsn;                        /* "5.7.1" given in the table, else "" */
    char   *text;                       /* text or argument, else "" */
} access_result;

access_result *access_result_parse(const char *value, strbuf *why);
void    access_result_free(access_result *result);
const char *access_action_name(enum access_action action);

#endif

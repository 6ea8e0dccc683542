/*
 * header_body_checks - what a header_checks(5) or body_checks(5) result
 * means.
 *
 * hbc_parse(value, context, result, why) turns the text a check table
 * returned for a header or body line into an action and its argument:
 *
 *   DUNNO, OK                  HBC_DUNNO (OK is DUNNO, as in Postfix)
 *   IGNORE                     HBC_IGNORE: delete the line silently
 *   STRIP [text]               HBC_STRIP: delete the line, log "strip:"
 *   INFO [text], WARN [text]   HBC_INFO, HBC_WARN: log and go on
 *   PASS [text]                HBC_PASS: no more checks for this message
 *   HOLD [text]                HBC_HOLD: put the message in hold/
 *   DISCARD [text]             HBC_DISCARD: claim delivery, drop it
 *   REJECT [text]              HBC_REJECT: refuse the message; `dsn` is the
 *                              enhanced status code the text starts with
 *                              (a 5.X.Y only) or "5.7.1", and `text` the
 *                              rest, or "message content rejected"
 *   PREPEND text, REPLACE text HBC_PREPEND, HBC_REPLACE: in header context
 *                              the text must be a header ("Name: value")
 *   REDIRECT addr, BCC addr    HBC_REDIRECT, HBC_BCC: one address with a
 *                              local part and a domain
 *   FILTER transport:nexthop   HBC_FILTER: the content filter for the
 *                              message (transport required, ':' required)
 *
 * Action names are case-insensitive and end at white space; white space
 * between the name and the text is skipped. The value comes from a table
 * and may hold text copied from the message ($1 in a regexp result), so it
 * is not trusted: a control character anywhere (a CR or LF could add a
 * header line), a missing or malformed argument, or an unknown action
 * fails with a reason in `why`; the caller logs it and treats the line as
 * not matched.
 *
 * Memory: `result` is caller-owned; hbc_result_init() creates its strbufs
 * and hbc_result_free() releases them. hbc_action_name() gives the lower
 * case name Postfix logs ("reject", "warning", ...). Nothing logs.
 */
#ifndef POSTERN_HEADER_BODY_CHECKS_H
#define POSTERN_HEADER_BODY_CHECKS_H

#include "strbuf.h"

enum hbc_action {
    HBC_DUNNO, HBC_IGNORE, HBC_STRIP, HBC_INFO, HBC_WARN, HBC_PASS, HBC_HOLD,
    HBC_DISCARD, HBC_REJECT, HBC_PREPEND, HBC_REPLACE, HBC_REDIRECT, HBC_BCC,
    HBC_FILTER,
};

enum hbc_context { HBC_CONTEXT_HEADER, HBC_CONTEXT_BODY };

typedef struct hbc_result {
    enum hbc_action action;
    strbuf *dsn;                        /* HBC_REJECT: "5.7.1"; else "" */
    strbuf *text;                       /* optional text or the argument; "" when none */
} hbc_result;

void    hbc_result_init(hbc_result *result);
void    hbc_result_free(hbc_result *result);
int     hbc_parse(const char *value, enum hbc_context context, hbc_result *result,
                  strbuf *why);
const char *hbc_action_name(enum hbc_action action);

#endif

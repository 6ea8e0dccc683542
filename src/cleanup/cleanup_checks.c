/*
 * cleanup_checks - header_checks, mime_header_checks, nested_header_checks
 * and body_checks (header_checks(5)).
 *
 * cleanup_check_header(state, class, mime, header) looks one logical
 * header up in the table of its class: MIME headers anywhere and every
 * header of a multipart part in mime_header_checks, other primary headers
 * in header_checks, other headers of an attached message in
 * nested_header_checks. cleanup_check_body(state, line_start, line) looks
 * a body line (or a piece of a long one) up in body_checks; empty lines
 * never match. Checks run only with CLEANUP_FLAG_FILTER, and stop after
 * PASS, DISCARD or any error (REJECT included).
 *
 * The action (header_body_checks.h) is carried out here: REJECT records
 * CLEANUP_STAT_CONT with "5.7.1 text"; HOLD, DISCARD, REDIRECT, FILTER and
 * BCC are noted in the state for the end of the message; REPLACE changes
 * the text in place; PREPEND writes its line before the current one (in
 * the body only at the start of a line); IGNORE and STRIP return
 * CLEANUP_CHECK_DELETE. A table that fails defers the message; an action
 * that does not parse is logged and ignored.
 *
 * cleanup_log_action() writes Postfix's line:
 *   ID: reject: header Subject: spam from host[addr]; from=<s> to=<r>
 *       proto=ESMTP helo=<h>: 5.7.1 text
 * (origin "local" without a client address; to=, proto= and helo= only when
 * known; the header or body text cut at CLEANUP_LOG_TEXT_MAX bytes).
 */
#include <string.h>

#include "cleanup.h"
#include "header_body_checks.h"
#include "mail_sanitize.h"
#include "msg.h"

static maps_t *header_table(enum cleanup_header_class header_class, int mime_header,
                            const char **title)
{
    if (mime_header || header_class == CLEANUP_HDR_MULTIPART) {
        *title = "mime_header_checks";
        return cleanup_tab.mime_header_checks;
    }
    if (header_class == CLEANUP_HDR_PRIMARY) {
        *title = "header_checks";
        return cleanup_tab.header_checks;
    }
    *title = "nested_header_checks";
    return cleanup_tab.nested_header_checks;
}

static int checks_active(const cleanup_state *state)
{
    return (state->flags & CLEANUP_FLAG_FILTER) && !state->pass && !state->discard
        && state->errs == 0;
}

void    cleanup_log_action(cleanup_state *state, const char *action, const char *what,
                           const char *text, size_t len, const char *extra)
{
    const char *client_address = cleanup_attr(state, "client_address");
    const char *client_name = cleanup_attr(state, "client_name");
    const char *protocol = cleanup_attr(state, "protocol");
    const char *helo = cleanup_attr(state, "helo_name");
    strbuf *line = strbuf_new(256);

    strbuf_printf(line, "%s: %s: %s ", state->queue_id, action, what);
    sanitize_printable(line, text, len > CLEANUP_LOG_TEXT_MAX ? CLEANUP_LOG_TEXT_MAX : len);
    if (client_address)
        strbuf_append_printf(line, " from %s[%s];", client_name ? client_name : "unknown",
                             client_address);
    else
        strbuf_append_str(line, " from local;");
    strbuf_append_printf(line, " %s", state->log_sender->data);
    if (state->first_rcpt->len) {
        strbuf_append_char(line, ' ');
        log_address(line, "to", state->first_rcpt->data, state->first_rcpt->len);
    }
    if (protocol)
        strbuf_append_printf(line, " proto=%s", protocol);
    if (helo)
        strbuf_append_printf(line, " helo=<%s>", helo);
    if (extra && *extra)
        strbuf_append_printf(line, ": %s", extra);
    msg_info("%s", line->data);
    strbuf_free(line);
}

/* Looks `text` up; 1 with an action in `result`, 0 no action, -1 table error. */
static int check_lookup(cleanup_state *state, maps_t *maps, const char *title,
                        enum hbc_context context, const strbuf *text, hbc_result *result)
{
    const char *value;
    strbuf *why;
    int     rc = maps_find(maps, text->data, 0, &value);

    if (rc == MAP_NOTFOUND)
        return 0;
    if (rc == MAP_ERROR) {
        msg_warn("%s: %s map lookup problem -- message not accepted, try again later",
                 state->queue_id, title);
        cleanup_error(state, CLEANUP_STAT_DEFER, "4.3.0 Temporary lookup failure");
        return -1;
    }
    why = strbuf_new(64);
    rc = hbc_parse(value, context, result, why) == 0;
    if (!rc)
        msg_warn("%s: %s: %s", state->queue_id, title, why->data);
    strbuf_free(why);
    return rc;
}

/* Carries out one action; the verdict for the current line. */
static enum cleanup_check_verdict apply_action(cleanup_state *state, const char *what,
                                               strbuf *text, const hbc_result *r,
                                               int may_prepend)
{
    const char *name = hbc_action_name(r->action);

    switch (r->action) {
    case HBC_DUNNO:
        return CLEANUP_CHECK_KEEP;
    case HBC_IGNORE:
        return CLEANUP_CHECK_DELETE;
    case HBC_STRIP:
        cleanup_log_action(state, name, what, text->data, text->len, r->text->data);
        return CLEANUP_CHECK_DELETE;
    case HBC_INFO:
    case HBC_WARN:
        break;
    case HBC_PASS:
        state->pass = 1;
        break;
    case HBC_HOLD:
        state->hold = 1;
        break;
    case HBC_DISCARD:
        state->discard = 1;
        break;
    case HBC_REJECT:
        strbuf_printf(state->temp, "%s %s", r->dsn->data, r->text->data);
        cleanup_log_action(state, name, what, text->data, text->len, state->temp->data);
        cleanup_error(state, CLEANUP_STAT_CONT, "%s", state->temp->data);
        return CLEANUP_CHECK_KEEP;
    case HBC_PREPEND:
        if (may_prepend)
            cleanup_out_text(state, r->text->data, r->text->len);
        return CLEANUP_CHECK_KEEP;
    case HBC_REPLACE:
        strbuf_set_mem(text, r->text->data, r->text->len);
        return CLEANUP_CHECK_KEEP;
    case HBC_REDIRECT:
        strbuf_set_mem(state->redirect, r->text->data, r->text->len);
        break;
    case HBC_FILTER:
        strbuf_set_mem(state->filter, r->text->data, r->text->len);
        break;
    case HBC_BCC:
        argv_add(state->check_bcc, r->text->data);
        return CLEANUP_CHECK_KEEP;
    }
    cleanup_log_action(state, name, what, text->data, text->len, r->text->data);
    return CLEANUP_CHECK_KEEP;
}

static enum cleanup_check_verdict check_text(cleanup_state *state, maps_t *maps,
                                             const char *title, enum hbc_context context,
                                             strbuf *text, int may_prepend)
{
    hbc_result result;
    enum cleanup_check_verdict verdict = CLEANUP_CHECK_KEEP;

    hbc_result_init(&result);
    if (check_lookup(state, maps, title, context, text, &result) > 0)
        verdict = apply_action(state, context == HBC_CONTEXT_HEADER ? "header" : "body",
                               text, &result, may_prepend);
    hbc_result_free(&result);
    return verdict;
}

enum cleanup_check_verdict cleanup_check_header(cleanup_state *state,
                                                enum cleanup_header_class header_class,
                                                int mime_header, strbuf *header)
{
    const char *title;
    maps_t *maps = header_table(header_class, mime_header, &title);

    if (maps == NULL || !checks_active(state))
        return CLEANUP_CHECK_KEEP;
    return check_text(state, maps, title, HBC_CONTEXT_HEADER, header, 1);
}

enum cleanup_check_verdict cleanup_check_body(cleanup_state *state, int line_start,
                                              strbuf *line)
{
    if (cleanup_tab.body_checks == NULL || line->len == 0 || !checks_active(state))
        return CLEANUP_CHECK_KEEP;
    return check_text(state, cleanup_tab.body_checks, "body_checks", HBC_CONTEXT_BODY, line,
                      line_start);
}

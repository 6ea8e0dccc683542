/*
 * cleanup_state - one message's state in cleanup. See cleanup.h.
 *
 * cleanup_state_new(flags) makes an empty state for a client's flags;
 * cleanup_state_free() releases it (an open queue file must already be
 * committed or aborted). cleanup_error() records a CLEANUP_STAT_* bit and,
 * for the first error, the "D.D.D text" reason the client gets.
 * cleanup_attr() returns a client attribute or NULL. cleanup_output_ok()
 * says whether content is still worth writing: not after a temporary
 * error, a size overflow or DISCARD, and after a content rejection only
 * when the message will be bounced (the bounce quotes it).
 */
#include <stdarg.h>
#include <stdlib.h>

#include "cleanup.h"
#include "mem.h"

cleanup_state *cleanup_state_new(int flags)
{
    cleanup_state *state = xcalloc(1, sizeof(*state));

    state->flags = flags;
    state->reason = strbuf_new(64);
    state->attrs = htable_new(16);
    state->sender = strbuf_new(64);
    state->log_sender = strbuf_new(64);
    state->fullname = strbuf_new(32);
    state->pending.orig_rcpt = strbuf_new(64);
    state->pending.dsn_orcpt = strbuf_new(64);
    state->dups = htable_new(64);
    state->first_rcpt = strbuf_new(64);
    state->bcc_lookups = argv_new(4);
    state->canonical = htable_new(8);
    state->resolved_address = strbuf_new(64);
    state->content = cleanup_content_new();
    state->redirect = strbuf_new(16);
    state->filter = strbuf_new(16);
    state->check_bcc = argv_new(4);
    state->extracted = argv_new(8);
    state->extracted_resent = argv_new(4);
    state->temp = strbuf_new(256);
    return state;
}

void    cleanup_state_free(cleanup_state *state)
{
    for (size_t i = 0; i < state->rcpt_count; i++) {
        free(state->rcpts[i].address);
        free(state->rcpts[i].orig_rcpt);
        free(state->rcpts[i].dsn_orcpt);
    }
    free(state->rcpts);
    strbuf_free(state->reason);
    htable_free(state->attrs, free);
    strbuf_free(state->sender);
    strbuf_free(state->log_sender);
    strbuf_free(state->fullname);
    strbuf_free(state->pending.orig_rcpt);
    strbuf_free(state->pending.dsn_orcpt);
    htable_free(state->dups, NULL);
    strbuf_free(state->first_rcpt);
    argv_free(state->bcc_lookups);
    htable_free(state->canonical, free);
    strbuf_free(state->resolved_address);
    cleanup_content_free(state->content);
    strbuf_free(state->redirect);
    strbuf_free(state->filter);
    argv_free(state->check_bcc);
    argv_free(state->extracted);
    argv_free(state->extracted_resent);
    strbuf_free(state->temp);
    free(state);
}

void    cleanup_error(cleanup_state *state, int status, const char *reason_fmt, ...)
{
    va_list ap;

    state->errs |= status;
    if (state->reason->len == 0) {
        va_start(ap, reason_fmt);
        strbuf_append_vprintf(state->reason, reason_fmt, ap);
        va_end(ap);
    }
}

const char *cleanup_attr(const cleanup_state *state, const char *name)
{
    return htable_get(state->attrs, name);
}

int     cleanup_output_ok(const cleanup_state *state)
{
    if (state->qf == NULL || state->discard)
        return 0;
    if (state->errs & (CLEANUP_STAT_BAD | CLEANUP_STAT_WRITE | CLEANUP_STAT_DEFER
                       | CLEANUP_STAT_SIZE))
        return 0;
    if (state->errs)
        return (state->flags & CLEANUP_FLAG_BOUNCE) != 0;
    return 1;
}

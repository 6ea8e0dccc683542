/*
 * cleanup_envelope - the envelope records a client sends, and recipients.
 *
 * cleanup_envelope_record() takes the records before the content, in the
 * order of docs/protocols.md: T (optional), A*, S, F?, (O? Q? N? R)*, M.
 * Each is checked (order, syntax, length, no control characters) and
 * written to the queue file at once, rewritten where it is an address.
 * A record out of order, or one a client may not send (V, W, D), is a
 * protocol error (CLEANUP_STAT_BAD, logged); the session still reads to the
 * end record so the client stays in step.
 *
 * Attributes are kept in state->attrs for log lines; `dsn_notify` (the
 * NOTIFY flags of recipients extracted for "sendmail -t") is used, not
 * written; `filter` and `redirect` are cleanup's own and refused from a
 * client. When the client did not say, cleanup writes `rewrite_context`
 * (local for CLEANUP_FLAG_LOCAL, else remote) and decides the header
 * rewriting context: local, remote (only when remote_header_rewrite_domain
 * is set) or none.
 *
 * cleanup_add_recipient() takes one recipient through rewriting, the
 * recipient BCC lookup and virtual alias expansion, drops duplicates (same
 * address, original address, ORCPT and NOTIFY, as Postfix; at most
 * duplicate_filter_limit remembered) and writes O? Q? N? R for each
 * result. cleanup_extracted_record() takes the client's recipient groups
 * after X. cleanup_write_extracted() writes, after X, what the content
 * produced: FILTER and REDIRECT attributes, "sendmail -t" recipients (from
 * Resent-To/Cc/Bcc when the message has Resent- headers, else To/Cc/Bcc)
 * and BCC actions. cleanup_write_auto_bcc() adds always_bcc,
 * sender_bcc_maps and recipient_bcc_maps recipients (NOTIFY=NEVER) to new
 * mail: CLEANUP_FLAG_MAP_OK set and not a delivery status notification.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "dsn.h"
#include "mail_params.h"
#include "mail_sanitize.h"
#include "maildrop.h"
#include "mem.h"
#include "msg.h"
#include "record.h"

static int protocol_error(cleanup_state *state, const char *what, int type)
{
    msg_warn("%s: %s: record type '%c' from client", state->queue_id, what,
             isprint(type) ? type : '?');
    cleanup_error(state, CLEANUP_STAT_BAD, "4.3.0 internal protocol error");
    return -1;
}

static int clean_text(const strbuf *data)
{
    return data->len <= CLEANUP_ATTR_LEN_MAX && strbuf_is_clean_text(data);
}

static int parse_time(const char *text, struct timeval *tv)
{
    char   *end;
    long    seconds;
    long    micros;

    if (!isdigit((unsigned char) *text))
        return -1;
    seconds = strtol(text, &end, 10);
    if (*end != '.' || !isdigit((unsigned char) end[1]) || seconds < 0)
        return -1;
    micros = strtol(end + 1, &end, 10);
    if (*end || micros < 0 || micros > 999999)
        return -1;
    tv->tv_sec = seconds;
    tv->tv_usec = micros;
    return 0;
}

static int attribute_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > 63)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!islower((unsigned char) name[i]) && !isdigit((unsigned char) name[i])
            && name[i] != '_')
            return 0;
    return 1;
}

static int attribute_record(cleanup_state *state, const strbuf *data)
{
    const char *eq = memchr(data->data, '=', data->len);
    size_t  name_len = eq ? (size_t) (eq - data->data) : 0;
    char   *name;
    int     notify;

    if (eq == NULL || !attribute_name_ok(data->data, name_len) || !clean_text(data)
        || ++state->attr_count > CLEANUP_ATTR_MAX)
        return protocol_error(state, "bad attribute", REC_TYPE_ATTR);
    name = xstrndup(data->data, name_len);
    if (htable_find(state->attrs, name) || strcmp(name, "filter") == 0
        || strcmp(name, "redirect") == 0
        || (strcmp(name, "rewrite_context") == 0 && strcmp(eq + 1, REWRITE_LOCAL) != 0
            && strcmp(eq + 1, REWRITE_REMOTE) != 0)
        || (strcmp(name, MAILDROP_ATTR_NOTIFY) == 0 && !maildrop_notify_valid(eq + 1, &notify))) {
        free(name);
        return protocol_error(state, "duplicate or bad attribute", REC_TYPE_ATTR);
    }
    if (strcmp(name, MAILDROP_ATTR_NOTIFY) == 0)
        state->extract_notify = notify;
    else
        cleanup_out_record(state, REC_TYPE_ATTR, data->data, data->len);
    htable_put(state->attrs, name, xstrdup(eq + 1), free);
    free(name);
    return 0;
}

/* The rewriting context of headers, decided once the attributes are in. */
static void choose_header_context(cleanup_state *state)
{
    const char *context = cleanup_attr(state, "rewrite_context");
    int     local = context ? strcmp(context, REWRITE_LOCAL) == 0
        : (state->flags & CLEANUP_FLAG_LOCAL) != 0;

    if (context == NULL) {
        context = local ? REWRITE_LOCAL : REWRITE_REMOTE;
        cleanup_out_record(state, REC_TYPE_ATTR, local ? "rewrite_context=local"
                           : "rewrite_context=remote", local ? 21 : 22);
        htable_put(state->attrs, "rewrite_context", xstrdup(context), free);
    }
    if (local)
        state->hdr_context = REWRITE_LOCAL;
    else if (*var_remote_header_rewrite_domain)
        state->hdr_context = REWRITE_REMOTE;
    else
        state->hdr_context = NULL;
}

static int sender_record(cleanup_state *state, const strbuf *data)
{
    if (!clean_text(data))
        return protocol_error(state, "bad sender", REC_TYPE_SENDER);
    choose_header_context(state);
    state->stage = CLEANUP_STAGE_RCPT;
    if (cleanup_rewrite_sender(state, data->data, state->sender) < 0)
        strbuf_set_mem(state->sender, data->data, data->len);
    cleanup_out_record(state, REC_TYPE_SENDER, state->sender->data, state->sender->len);
    strbuf_reset(state->log_sender);
    log_address(state->log_sender, "from", state->sender->data, state->sender->len);
    return 0;
}

static void pending_reset(cleanup_pending *pending)
{
    strbuf_reset(pending->orig_rcpt);
    strbuf_reset(pending->dsn_orcpt);
    pending->have_orig = pending->have_orcpt = 0;
    pending->dsn_notify = 0;
}

/* O, Q, N and R: the envelope and the extracted section share them. */
static int recipient_group_record(cleanup_state *state, int type, const strbuf *data)
{
    cleanup_pending *p = &state->pending;

    if (!clean_text(data))
        return protocol_error(state, "bad recipient record", type);
    switch (type) {
    case REC_TYPE_ORIG_RCPT:
        if (p->have_orig++)
            return protocol_error(state, "two original recipients", type);
        strbuf_set_mem(p->orig_rcpt, data->data, data->len);
        return 0;
    case REC_TYPE_DSN_ORCPT:
        if (p->have_orcpt++)
            return protocol_error(state, "two ORCPT records", type);
        strbuf_set_mem(p->dsn_orcpt, data->data, data->len);
        return 0;
    case REC_TYPE_DSN_NOTIFY:
        if (p->dsn_notify || !maildrop_notify_valid(data->data, &p->dsn_notify))
            return protocol_error(state, "bad NOTIFY record", type);
        return 0;
    case REC_TYPE_RCPT:
        cleanup_add_recipient(state, data->data, p->have_orig ? p->orig_rcpt->data : data->data,
                              p->dsn_orcpt->data, p->dsn_notify);
        pending_reset(p);
        return 0;
    }
    return protocol_error(state, "unexpected record", type);
}

static int message_record(cleanup_state *state, const strbuf *data)
{
    if (state->stage != CLEANUP_STAGE_RCPT || data->len || state->pending.have_orig
        || state->pending.have_orcpt || state->pending.dsn_notify)
        return protocol_error(state, "misplaced message start", REC_TYPE_MESSAGE);
    state->sizes.content_offset = (long) cleanup_out_offset(state);
    cleanup_out_record(state, REC_TYPE_MESSAGE, "", 0);
    state->stage = CLEANUP_STAGE_CONTENT;
    return 0;
}

static int time_record(cleanup_state *state, const strbuf *data)
{
    if (state->stage != CLEANUP_STAGE_TIME || parse_time(data->data, &state->arrival) < 0)
        return protocol_error(state, "misplaced or bad arrival time", REC_TYPE_TIME);
    state->stage = CLEANUP_STAGE_ATTR;
    return 0;
}

int     cleanup_envelope_record(cleanup_state *state, int type, const strbuf *data)
{
    if (type == REC_TYPE_TIME)
        return time_record(state, data);
    if (state->stage == CLEANUP_STAGE_TIME)
        state->stage = CLEANUP_STAGE_ATTR;
    cleanup_out_start(state);
    switch (type) {
    case REC_TYPE_ATTR:
        if (state->stage != CLEANUP_STAGE_ATTR)
            return protocol_error(state, "attribute after sender", type);
        return attribute_record(state, data);
    case REC_TYPE_SENDER:
        if (state->stage != CLEANUP_STAGE_ATTR)
            return protocol_error(state, "misplaced sender", type);
        return sender_record(state, data);
    case REC_TYPE_FULLNAME:
        if (state->stage != CLEANUP_STAGE_RCPT || state->have_fullname++ || state->rcpt_count
            || !clean_text(data))
            return protocol_error(state, "misplaced or bad full name", type);
        strbuf_set_mem(state->fullname, data->data, data->len);
        cleanup_out_record(state, REC_TYPE_FULLNAME, data->data, data->len);
        return 0;
    case REC_TYPE_ORIG_RCPT:
    case REC_TYPE_DSN_ORCPT:
    case REC_TYPE_DSN_NOTIFY:
    case REC_TYPE_RCPT:
        if (state->stage != CLEANUP_STAGE_RCPT)
            return protocol_error(state, "recipient before sender", type);
        return recipient_group_record(state, type, data);
    case REC_TYPE_MESSAGE:
        return message_record(state, data);
    }
    return protocol_error(state, "unexpected envelope record", type);
}

int     cleanup_extracted_record(cleanup_state *state, int type, const strbuf *data)
{
    return recipient_group_record(state, type, data);
}

/* 1 when this recipient was written before (Postfix's duplicate filter). */
static int duplicate(cleanup_state *state, const char *address, const char *orig,
                     const char *dsn_orcpt, int dsn_notify)
{
    strbuf *key = state->temp;

    strbuf_printf(key, "%s\n%d\n%s\n%s", dsn_orcpt, dsn_notify, orig, address);
    if (htable_find(state->dups, key->data))
        return 1;
    if (state->dups->used < (size_t) var_duplicate_filter_limit || var_duplicate_filter_limit == 0)
        htable_put(state->dups, key->data, NULL, NULL);
    return 0;
}

static void write_recipient(cleanup_state *state, const char *address, const char *orig,
                            const char *dsn_orcpt, int dsn_notify)
{
    cleanup_rcpt *rcpt;

    if (duplicate(state, address, orig, dsn_orcpt, dsn_notify))
        return;
    if (var_enable_original_recipient)
        cleanup_out_record(state, REC_TYPE_ORIG_RCPT, orig, strlen(orig));
    if (*dsn_orcpt)
        cleanup_out_record(state, REC_TYPE_DSN_ORCPT, dsn_orcpt, strlen(dsn_orcpt));
    if (dsn_notify) {
        strbuf_printf(state->temp, "%d", dsn_notify);
        cleanup_out_record(state, REC_TYPE_DSN_NOTIFY, state->temp->data, state->temp->len);
    }
    if (state->rcpt_count == state->rcpt_cap) {
        state->rcpt_cap = state->rcpt_cap ? 2 * state->rcpt_cap : 8;
        state->rcpts = xreallocarray(state->rcpts, state->rcpt_cap, sizeof(*state->rcpts));
    }
    rcpt = &state->rcpts[state->rcpt_count++];
    rcpt->address = xstrdup(address);
    rcpt->orig_rcpt = xstrdup(orig);
    rcpt->dsn_orcpt = xstrdup(dsn_orcpt);
    rcpt->dsn_notify = dsn_notify;
    rcpt->offset = (long) cleanup_out_offset(state);
    cleanup_out_record(state, REC_TYPE_RCPT, address, strlen(address));
}

static int auto_bcc_allowed(const cleanup_state *state)
{
    const char *trace_flags = cleanup_attr(state, "trace_flags");

    return (state->flags & CLEANUP_FLAG_MAP_OK)
        && (trace_flags == NULL || (strtol(trace_flags, NULL, 10) & 1) == 0);
}

void    cleanup_add_recipient(cleanup_state *state, const char *address, const char *orig,
                              const char *dsn_orcpt, int dsn_notify)
{
    strbuf *rewritten = strbuf_new(64);
    argv_t *expanded = argv_new(4);

    if (cleanup_rewrite_recipient(state, address, rewritten) == 0) {
        if (state->first_rcpt->len == 0)
            strbuf_set_mem(state->first_rcpt, rewritten->data, rewritten->len);
        if (cleanup_tab.recipient_bcc && auto_bcc_allowed(state) && !state->adding_bcc)
            cleanup_bcc_lookup(state, cleanup_tab.recipient_bcc, "recipient_bcc_maps",
                               rewritten->data, state->bcc_lookups);
        if (cleanup_virtual_expand(state, rewritten->data, expanded) == 0)
            for (size_t i = 0; i < expanded->count; i++)
                write_recipient(state, expanded->items[i], orig, dsn_orcpt, dsn_notify);
    }
    strbuf_free(rewritten);
    argv_free(expanded);
}

void    cleanup_write_extracted(cleanup_state *state)
{
    const argv_t *header_rcpts = state->resent ? state->extracted_resent : state->extracted;

    if (state->filter->len) {
        strbuf_printf(state->temp, "filter=%s", state->filter->data);
        cleanup_out_record(state, REC_TYPE_ATTR, state->temp->data, state->temp->len);
    }
    if (state->redirect->len) {
        strbuf_printf(state->temp, "redirect=%s", state->redirect->data);
        cleanup_out_record(state, REC_TYPE_ATTR, state->temp->data, state->temp->len);
    }
    for (size_t i = 0; i < header_rcpts->count; i++)
        cleanup_add_recipient(state, header_rcpts->items[i], header_rcpts->items[i], "",
                              state->extract_notify);
    state->adding_bcc = 1;
    for (size_t i = 0; i < state->check_bcc->count; i++)
        cleanup_add_recipient(state, state->check_bcc->items[i], state->check_bcc->items[i], "",
                              DSN_NOTIFY_NEVER);
    state->adding_bcc = 0;
}

void    cleanup_write_auto_bcc(cleanup_state *state)
{
    argv_t *bcc = argv_copy(state->bcc_lookups);

    if (!auto_bcc_allowed(state) || state->errs) {
        argv_free(bcc);
        return;
    }
    if (*var_always_bcc)
        argv_add(bcc, var_always_bcc);
    if (cleanup_tab.sender_bcc && state->sender->len)
        cleanup_bcc_lookup(state, cleanup_tab.sender_bcc, "sender_bcc_maps",
                           state->sender->data, bcc);
    state->adding_bcc = 1;
    for (size_t i = 0; i < bcc->count && state->errs == 0; i++)
        cleanup_add_recipient(state, bcc->items[i], bcc->items[i], "", DSN_NOTIFY_NEVER);
    state->adding_bcc = 0;
    argv_free(bcc);
}

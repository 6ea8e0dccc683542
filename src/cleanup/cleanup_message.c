/*
 * cleanup_message - the message content: headers, MIME structure, body.
 *
 * cleanup_content_record() takes each content record (L: the end of a
 * line, C: a piece of a longer line) and cleanup_content_end() the end of
 * the content (the client's X record).
 *
 * Headers: physical lines are joined into one logical header (continuation
 * lines start with white space), at most header_size_limit bytes; the
 * excess is discarded. A header block ends at an empty line, or at a line
 * that neither starts nor continues a header (Postfix takes that line as
 * the first body line; after the primary headers cleanup then writes the
 * empty line the message lacked). Each logical header goes through the
 * content checks (cleanup_checks.c) and, in the primary header block:
 *
 *   Received:           counted; more than hopcount_limit: "5.4.0 too many hops"
 *   Resent-*:           the message is being resent: missing headers get the
 *                       Resent- prefix, "sendmail -t" uses Resent-To/Cc/Bcc
 *   Message-ID:         logged as "ID: message-id=VALUE"
 *   address headers:    recipients collected for "sendmail -t"; addresses
 *                       rewritten in the header context (cleanup_addr.c)
 *   message_drop_headers (Bcc, Content-Length, Resent-Bcc, Return-Path):
 *                       removed after the checks saw them
 *
 * At the end of the primary headers, missing (Resent-)Message-Id:, Date:,
 * From: and, with undisclosed_recipients_header, To: are added when
 * headers are rewritten (local submission, local_header_rewrite_clients,
 * remote_header_rewrite_domain) or always_add_missing_headers is set.
 *
 * MIME (unless disable_mime_input_processing): a multipart Content-Type
 * with a boundary makes "--boundary" lines start part headers (class
 * MULTIPART: mime_header_checks) and "--boundary--" end the multipart;
 * message/rfc822 makes the body start with the headers of an attached
 * message (class NESTED: nested_header_checks; its MIME headers go to
 * mime_header_checks). At most mime_nesting_limit multiparts are open;
 * boundaries are cut at mime_boundary_length_limit bytes. Body lines,
 * boundary lines included, go to body_checks, at most
 * body_checks_size_limit bytes per body segment.
 *
 * Memory: the content state (cleanup_content_new/free) holds one logical
 * header and the open boundaries; body lines are never buffered.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "header_addr.h"
#include "mail_addr.h"
#include "mail_date.h"
#include "mail_params.h"
#include "mail_sanitize.h"
#include "mem.h"
#include "msg.h"
#include "record.h"

struct cleanup_content {
    int     in_headers;                 /* reading a header block */
    enum cleanup_header_class header_class;
    strbuf *header;                     /* the logical header being read */
    int     header_open;
    int     line_start;                 /* the next record starts a physical line */
    int     primary_done;
    int     body_offset_set;
    argv_t *boundaries;                 /* open multiparts, innermost last */
    int     block_multipart;            /* the header block's Content-Type */
    int     block_message;
    strbuf *block_boundary;
    long    segment_bytes;              /* for body_checks_size_limit */
    strbuf *piece;
    strbuf *scratch;
};

cleanup_content *cleanup_content_new(void)
{
    cleanup_content *c = xcalloc(1, sizeof(*c));

    c->in_headers = 1;
    c->header_class = CLEANUP_HDR_PRIMARY;
    c->header = strbuf_new(256);
    c->line_start = 1;
    c->boundaries = argv_new(4);
    c->block_boundary = strbuf_new(64);
    c->piece = strbuf_new(256);
    c->scratch = strbuf_new(256);
    return c;
}

void    cleanup_content_free(cleanup_content *c)
{
    strbuf_free(c->header);
    argv_free(c->boundaries);
    strbuf_free(c->block_boundary);
    strbuf_free(c->piece);
    strbuf_free(c->scratch);
    free(c);
}

/* MIME headers: MIME-Version and every Content-* header. */
static int is_mime_header(const char *name, size_t len)
{
    return (len == 12 && strncasecmp(name, "MIME-Version", 12) == 0)
        || (len > 8 && strncasecmp(name, "Content-", 8) == 0);
}

/* Skips white space and (nested) comments; returns the new position. */
static size_t skip_cfws(const char *text, size_t len, size_t pos)
{
    int     depth = 0;

    for (; pos < len; pos++) {
        if (depth == 0 && text[pos] == '(')
            depth = 1;
        else if (depth > 0 && text[pos] == '\\' && pos + 1 < len)
            pos++;
        else if (depth > 0 && text[pos] == '(')
            depth++;
        else if (depth > 0 && text[pos] == ')')
            depth--;
        else if (depth == 0 && !isspace((unsigned char) text[pos]))
            break;
    }
    return pos;
}

/* A token or quoted string of a Content-Type value into `out`. */
static size_t mime_word(const char *text, size_t len, size_t pos, strbuf *out)
{
    strbuf_reset(out);
    if (pos < len && text[pos] == '"') {
        for (pos++; pos < len && text[pos] != '"'; pos++) {
            if (text[pos] == '\\' && pos + 1 < len)
                pos++;
            strbuf_append_char(out, text[pos]);
        }
        return pos < len ? pos + 1 : pos;
    }
    while (pos < len && !isspace((unsigned char) text[pos])
           && strchr("()<>@,;:\\\"/[]?=", text[pos]) == NULL)
        strbuf_append_char(out, text[pos++]);
    return pos;
}

/* Notes what a Content-Type header says about the body of its block. */
static void note_content_type(cleanup_content *c, const char *value, size_t len)
{
    strbuf *type = strbuf_new(32);
    strbuf *subtype = strbuf_new(32);
    strbuf *word = strbuf_new(64);
    size_t  pos = mime_word(value, len, skip_cfws(value, len, 0), type);

    pos = skip_cfws(value, len, pos);
    if (pos < len && value[pos] == '/')
        pos = mime_word(value, len, skip_cfws(value, len, pos + 1), subtype);
    c->block_multipart = strcasecmp(type->data, "multipart") == 0;
    c->block_message = strcasecmp(type->data, "message") == 0
        && strcasecmp(subtype->data, "rfc822") == 0;
    strbuf_reset(c->block_boundary);
    while ((pos = skip_cfws(value, len, pos)) < len && value[pos] == ';') {
        pos = mime_word(value, len, skip_cfws(value, len, pos + 1), word);
        pos = skip_cfws(value, len, pos);
        if (pos >= len || value[pos] != '=')
            break;
        if (strcasecmp(word->data, "boundary") == 0) {
            pos = mime_word(value, len, skip_cfws(value, len, pos + 1), c->block_boundary);
            if (c->block_boundary->len > (size_t) var_mime_boundary_length_limit)
                strbuf_truncate(c->block_boundary, (size_t) var_mime_boundary_length_limit);
        } else {
            pos = mime_word(value, len, skip_cfws(value, len, pos + 1), word);
        }
    }
    strbuf_free(type);
    strbuf_free(subtype);
    strbuf_free(word);
}

/* Adds a -t recipient header's addresses to the right list. */
static void collect_recipients(cleanup_state *state, const header_info *info,
                               const header_addr_list *list)
{
    argv_t *target = (info->flags & HEADER_F_RESENT) ? state->extracted_resent
        : state->extracted;

    for (size_t i = 0; i < list->count; i++)
        if (list->items[i].parsed->len)
            argv_add(target, list->items[i].parsed->data);
}

/* Address headers: -t recipients, then rewriting in the header context. */
static void address_header(cleanup_state *state, const header_info *info, strbuf *header,
                           size_t value_start)
{
    header_addr_list *list = header_addr_parse(header->data + value_start,
                                               header->len - value_start,
                                               (size_t) var_header_address_token_limit);
    int     changed = 0;

    if ((state->flags & CLEANUP_FLAG_EXTRACT) && (info->flags & HEADER_F_RECIPIENT))
        collect_recipients(state, info, list);
    for (size_t i = 0; state->hdr_context && i < list->count; i++) {
        cleanup_rewrite_header_address(state, info->flags, list->items[i].address);
        changed |= header_addr_changed(&list->items[i]);
    }
    if (changed) {
        strbuf *text = state->content->scratch;

        strbuf_set_mem(text, header->data, value_start);
        header_addr_render(text, list);
        strbuf_set_mem(header, text->data, text->len);
    }
    header_addr_list_free(list);
}

static void log_message_id(cleanup_state *state, const char *label, const strbuf *header,
                           size_t value_start)
{
    strbuf *value = state->content->scratch;
    size_t  start;

    strbuf_reset(value);
    header_unfold(value, header->data + value_start, header->len - value_start);
    start = strspn(value->data, " \t");
    msg_info("%s: %s=%.*s", state->queue_id, label,
             (int) (value->len - start > CLEANUP_LOG_TEXT_MAX ? CLEANUP_LOG_TEXT_MAX
                    : value->len - start), value->data + start);
}

static int drop_header(const char *name, size_t len)
{
    for (size_t i = 0; i < cleanup_tab.drop_headers->count; i++)
        if (strlen(cleanup_tab.drop_headers->items[i]) == len
            && strncasecmp(cleanup_tab.drop_headers->items[i], name, len) == 0)
            return 1;
    return 0;
}

/* The primary header block's own rules; 1 when the header is to be dropped. */
static int primary_header(cleanup_state *state, strbuf *header, size_t name_len,
                          size_t value_start)
{
    const header_info *info = header_info_find(header->data, name_len);

    if (info) {
        state->headers_seen |= 1L << info->id;
        if (info->flags & HEADER_F_RESENT)
            state->resent = 1;
        if (info->id == HEADER_RECEIVED)
            state->hop_count++;
        else if (info->id == HEADER_MESSAGE_ID)
            log_message_id(state, "message-id", header, value_start);
        else if (info->id == HEADER_RESENT_MESSAGE_ID)
            log_message_id(state, "resent-message-id", header, value_start);
        if (info->flags & HEADER_F_ADDRESS)
            address_header(state, info, header, value_start);
    }
    return drop_header(header->data, name_len);
}

/* One complete logical header: checks, rules, output. */
static void process_header(cleanup_state *state)
{
    cleanup_content *c = state->content;
    size_t  name_len;
    size_t  value_start;
    int     mime;

    if (!c->header_open)
        return;
    c->header_open = 0;
    if (header_parse_name(c->header->data, c->header->len, &name_len, &value_start) != 1)
        return;                         /* a REPLACE cannot get here: its text is a header */
    mime = is_mime_header(c->header->data, name_len) && !var_disable_mime_input_processing;
    if (cleanup_check_header(state, c->header_class, mime, c->header) == CLEANUP_CHECK_DELETE)
        return;
    if (header_parse_name(c->header->data, c->header->len, &name_len, &value_start) != 1)
        return;
    if (name_len == 12 && strncasecmp(c->header->data, "Content-Type", 12) == 0)
        note_content_type(c, c->header->data + value_start, c->header->len - value_start);
    if (c->header_class == CLEANUP_HDR_PRIMARY
        && primary_header(state, c->header, name_len, value_start))
        return;
    cleanup_out_text(state, c->header->data, c->header->len);
}

static void add_header(cleanup_state *state, strbuf *text)
{
    cleanup_out_text(state, text->data, text->len);
}

static int seen(const cleanup_state *state, enum header_id plain, enum header_id resent)
{
    return (state->headers_seen & (1L << (state->resent ? resent : plain))) != 0;
}

static void add_from_header(cleanup_state *state, const char *prefix, strbuf *text)
{
    strbuf_printf(text, "%sFrom: ", prefix);
    if (state->sender->len == 0)
        strbuf_append_str(text, "MAILER-DAEMON");
    else if (state->fullname->len && strcasecmp(var_header_from_format, "obsolete") == 0) {
        mail_addr_externalize(text, state->sender->data, state->sender->len);
        strbuf_append_str(text, " (");
        sanitize_comment(text, state->fullname->data, state->fullname->len);
        strbuf_append_str(text, ")");
    } else
        header_addr_format_mailbox(text, state->fullname->data, state->fullname->len,
                                   state->sender->data, state->sender->len);
    add_header(state, text);
}

static void add_missing_headers(cleanup_state *state)
{
    const char *prefix = state->resent ? "Resent-" : "";
    strbuf *text = strbuf_new(128);

    if (state->hdr_context == NULL && !var_always_add_missing_headers) {
        strbuf_free(text);
        return;
    }
    if (!seen(state, HEADER_MESSAGE_ID, HEADER_RESENT_MESSAGE_ID)) {
        strbuf_printf(text, "%sMessage-Id: ", prefix);
        if (message_id_format(text, state->arrival.tv_sec, state->queue_id, var_myhostname) == 0) {
            add_header(state, text);
            msg_info("%s: %smessage-id=%s", state->queue_id, state->resent ? "resent-" : "",
                     text->data + strlen(prefix) + 12);
        }
    }
    if (!seen(state, HEADER_DATE, HEADER_RESENT_DATE)) {
        strbuf_printf(text, "%sDate: ", prefix);
        mail_date_format(text, state->arrival.tv_sec);
        add_header(state, text);
    }
    if (!seen(state, HEADER_FROM, HEADER_RESENT_FROM))
        add_from_header(state, prefix, text);
    if (*var_undisclosed_recipients_header && !seen(state, HEADER_TO, HEADER_RESENT_TO)
        && !seen(state, HEADER_CC, HEADER_RESENT_CC)
        && !seen(state, HEADER_BCC, HEADER_RESENT_BCC)) {
        strbuf_set(text, var_undisclosed_recipients_header);
        add_header(state, text);
    }
    strbuf_free(text);
}

static void primary_headers_done(cleanup_state *state)
{
    state->content->primary_done = 1;
    add_missing_headers(state);
    if (state->hop_count > var_hopcount_limit)
        cleanup_error(state, CLEANUP_STAT_HOPS, "5.4.0 too many hops");
}

/* Where the body of a finished header block goes (MIME structure). */
static void enter_block_body(cleanup_state *state)
{
    cleanup_content *c = state->content;

    c->in_headers = 0;
    c->segment_bytes = 0;
    if (var_disable_mime_input_processing)
        return;
    if (c->block_message) {
        c->in_headers = 1;
        c->header_class = CLEANUP_HDR_NESTED;
    } else if (c->block_multipart && c->block_boundary->len
               && c->boundaries->count < (size_t) var_mime_nesting_limit) {
        argv_add(c->boundaries, c->block_boundary->data);
    }
    c->block_multipart = c->block_message = 0;
    strbuf_reset(c->block_boundary);
}

/* The header block ended; `blank` when at an empty line (written here). */
static void end_header_block(cleanup_state *state, int blank)
{
    cleanup_content *c = state->content;
    int     primary = c->header_class == CLEANUP_HDR_PRIMARY && !c->primary_done;

    process_header(state);
    if (primary)
        primary_headers_done(state);
    if (blank || primary)
        cleanup_out_content(state, REC_TYPE_LINE, "", 0);
    if (primary) {
        state->sizes.body_offset = (long) cleanup_out_offset(state);
        c->body_offset_set = 1;
    }
    enter_block_body(state);
}

static void header_append(cleanup_content *c, const char *data, size_t len)
{
    size_t  room = (size_t) var_header_size_limit > c->header->len ?
        (size_t) var_header_size_limit - c->header->len : 0;

    strbuf_append(c->header, data, len < room ? len : room);
}

static void body_record(cleanup_state *state, int type, const strbuf *data);

/* A record while a header block is being read. */
static void header_record(cleanup_state *state, int type, const strbuf *data)
{
    cleanup_content *c = state->content;
    size_t  name_len;
    size_t  value_start;

    if (!c->line_start) {
        header_append(c, data->data, data->len);
    } else if (type == REC_TYPE_LINE && data->len == 0) {
        end_header_block(state, 1);
        return;
    } else if (c->header_open && (data->data[0] == ' ' || data->data[0] == '\t')) {
        header_append(c, "\n", 1);
        header_append(c, data->data, data->len);
    } else if (header_parse_name(data->data, data->len, &name_len, &value_start) == 1) {
        process_header(state);
        strbuf_reset(c->header);
        header_append(c, data->data, data->len);
        c->header_open = 1;
    } else {
        end_header_block(state, 0);
        body_record(state, type, data);
        return;
    }
    c->line_start = type == REC_TYPE_LINE;
}

/* Is this line a boundary of an open multipart? Updates the MIME state. */
static void check_boundary(cleanup_state *state, const strbuf *line)
{
    cleanup_content *c = state->content;
    size_t  len = line->len;

    while (len > 2 && (line->data[len - 1] == ' ' || line->data[len - 1] == '\t'))
        len--;
    for (size_t i = c->boundaries->count; i-- > 0;) {
        const char *boundary = c->boundaries->items[i];
        size_t  blen = strlen(boundary);

        if (len < blen + 2 || strncmp(line->data + 2, boundary, blen) != 0)
            continue;
        if (len == blen + 2) {
            argv_truncate(c->boundaries, i + 1);
            c->in_headers = 1;
            c->header_class = CLEANUP_HDR_MULTIPART;
            return;
        }
        if (len == blen + 4 && line->data[blen + 2] == '-' && line->data[blen + 3] == '-') {
            argv_truncate(c->boundaries, i);
            c->segment_bytes = 0;
            return;
        }
    }
}

static void body_record(cleanup_state *state, int type, const strbuf *data)
{
    cleanup_content *c = state->content;
    int     line_start = c->line_start;
    int     boundary = line_start && type == REC_TYPE_LINE && c->boundaries->count
        && data->len >= 2 && data->data[0] == '-' && data->data[1] == '-';

    strbuf_set_mem(c->piece, data->data, data->len);
    if (c->segment_bytes < var_body_checks_size_limit
        && cleanup_check_body(state, line_start, c->piece) == CLEANUP_CHECK_DELETE) {
        c->line_start = type == REC_TYPE_LINE;
        c->segment_bytes += (long) data->len;
        return;
    }
    c->segment_bytes += (long) data->len;
    cleanup_out_content(state, type, c->piece->data, c->piece->len);
    c->line_start = type == REC_TYPE_LINE;
    if (boundary && !var_disable_mime_input_processing)
        check_boundary(state, data);
}

void    cleanup_content_record(cleanup_state *state, int type, const strbuf *data)
{
    state->input_bytes += (long) data->len + (type == REC_TYPE_LINE);
    if (var_message_size_limit > 0 && state->input_bytes > var_message_size_limit)
        cleanup_error(state, CLEANUP_STAT_SIZE, "5.3.4 message file too big");
    if (state->errs & CLEANUP_STAT_SIZE)
        return;
    if (state->content->in_headers)
        header_record(state, type, data);
    else
        body_record(state, type, data);
}

void    cleanup_content_end(cleanup_state *state)
{
    cleanup_content *c = state->content;

    if (c->in_headers) {
        process_header(state);
        if (c->header_class == CLEANUP_HDR_PRIMARY && !c->primary_done)
            primary_headers_done(state);
    }
    if (!c->body_offset_set)
        state->sizes.body_offset = (long) cleanup_out_offset(state);
}

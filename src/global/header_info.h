/*
 * header_info - message header names, the headers Postern knows, and the
 * header block of a message as a sequence of (folded) fields.
 *
 * Names (RFC 5322 section 2.2, 3.6.8): 1 or more ftext characters (printable
 * ASCII except ':'), then ':'. Postfix also accepts white space between the
 * name and the colon (obsolete syntax, RFC 5322 section 4.5), and so does
 * header_parse_name(line, len, &name_len, &value_start): 1 when the line
 * starts a header field, with the name length (white space excluded) and the
 * offset just after the colon; 0 when it does not.
 * header_name_valid(name, len): the name alone is 1*ftext.
 *
 * header_info_find(name, len): the table entry of a known header, matched
 * case-insensitively, or NULL. Each entry has the canonical spelling, an id
 * and flags:
 *   HEADER_F_ADDRESS    the value is an address list (header_addr.h)
 *   HEADER_F_RECIPIENT  To, Cc, Bcc and their Resent- forms: the recipients
 *                       of "sendmail -t"; recipient_canonical_maps apply
 *   HEADER_F_SENDER     From, Sender, Reply-To, Errors-To, Return-Receipt-To,
 *                       Disposition-Notification-To and their Resent- forms:
 *                       sender_canonical_maps apply
 *   HEADER_F_RESENT     a Resent- header (RFC 5322 section 3.6.6)
 *   HEADER_F_MIME       MIME-Version, Content-Type, Content-Transfer-Encoding
 *
 * The header block: header_cursor_init(cursor, text, len) then
 * header_next(cursor, field) returns one field per call, its continuation
 * lines (starting with SP or HTAB) included, line ends LF or CRLF. It
 * returns 0 at the empty line that ends the headers (cursor->pos is then
 * the first body byte) or at the end of the text. A line that neither
 * starts a header nor continues one comes back with name_len 0: Postfix
 * takes it as the start of the body, and the caller usually stops there.
 * header_unfold(out, field, len) appends the field with its line breaks
 * removed (RFC 5322 section 2.2.3: the white space after them stays).
 * Iteration is one pass over the text and allocates nothing; callers bound
 * a field with header_size_limit.
 */
#ifndef POSTERN_HEADER_INFO_H
#define POSTERN_HEADER_INFO_H

#include <stddef.h>

#include "strbuf.h"

enum header_id {
    HEADER_FROM = 1, HEADER_SENDER, HEADER_REPLY_TO, HEADER_TO, HEADER_CC, HEADER_BCC,
    HEADER_RESENT_FROM, HEADER_RESENT_SENDER, HEADER_RESENT_REPLY_TO, HEADER_RESENT_TO,
    HEADER_RESENT_CC, HEADER_RESENT_BCC, HEADER_RESENT_DATE, HEADER_RESENT_MESSAGE_ID,
    HEADER_RETURN_RECEIPT_TO, HEADER_ERRORS_TO, HEADER_DISPOSITION_NOTIFICATION_TO,
    HEADER_RECEIVED, HEADER_RETURN_PATH, HEADER_DELIVERED_TO, HEADER_X_ORIGINAL_TO,
    HEADER_MESSAGE_ID, HEADER_DATE, HEADER_SUBJECT, HEADER_MIME_VERSION,
    HEADER_CONTENT_TYPE, HEADER_CONTENT_TRANSFER_ENCODING,
};

#define HEADER_F_ADDRESS    (1 << 0)
#define HEADER_F_RECIPIENT  (1 << 1)
#define HEADER_F_SENDER     (1 << 2)
#define HEADER_F_RESENT     (1 << 3)
#define HEADER_F_MIME       (1 << 4)

typedef struct header_info {
    const char *name;
    enum header_id id;
    int     flags;
} header_info;

typedef struct header_cursor {
    const char *text;
    size_t  len;
    size_t  pos;
} header_cursor;

typedef struct header_field {
    const char *text;                   /* the field's first byte */
    size_t  len;                        /* all its lines, without the last line end */
    size_t  name_len;                   /* 0: not a header line */
    size_t  value_start;                /* offset after the colon */
    size_t  lines;                      /* physical lines */
} header_field;

int     header_name_valid(const char *name, size_t len);
int     header_parse_name(const char *line, size_t len, size_t *name_len, size_t *value_start);
const header_info *header_info_find(const char *name, size_t len);

void    header_cursor_init(header_cursor *cursor, const char *text, size_t len);
int     header_next(header_cursor *cursor, header_field *field);
void    header_unfold(strbuf *out, const char *field, size_t len);

#endif

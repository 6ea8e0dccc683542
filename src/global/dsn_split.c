/*
 * dsn_split - status code and text. See dsn_split.h.
 */
#include <string.h>

#include "dsn_log.h"
#include "dsn_split.h"

#define DSN_STATUS_MAX  11              /* "5.123.123" and room */

int dsn_split(const char *text, const char *default_status, strbuf *status, strbuf *reason)
{
    size_t  len = strcspn(text, " \t");

    if (len > 0 && len <= DSN_STATUS_MAX) {
        strbuf_set_mem(status, text, len);
        if (dsn_status_valid(status->data)) {
            text += len;
            while (*text == ' ' || *text == '\t')
                text++;
            strbuf_set(reason, text);
            return 1;
        }
    }
    strbuf_set(status, default_status);
    strbuf_set(reason, text);
    return 0;
}

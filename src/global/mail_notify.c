/*
 * mail_notify - notify_classes and the double bounce address. See mail_notify.h.
 */
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "mail_notify.h"
#include "mail_params.h"
#include "msg.h"

static const struct {
    const char *name;
    int     mask;
} notify_classes[] = {
    {"bounce", NOTIFY_CLASS_BOUNCE | NOTIFY_CLASS_2BOUNCE},
    {"2bounce", NOTIFY_CLASS_2BOUNCE},
    {"data", NOTIFY_CLASS_DATA},
    {"delay", NOTIFY_CLASS_DELAY},
    {"policy", NOTIFY_CLASS_POLICY},
    {"protocol", NOTIFY_CLASS_PROTOCOL},
    {"resource", NOTIFY_CLASS_RESOURCE},
    {"software", NOTIFY_CLASS_SOFTWARE},
};

static int class_mask(const char *name)
{
    for (size_t i = 0; i < sizeof(notify_classes) / sizeof(notify_classes[0]); i++)
        if (strcasecmp(notify_classes[i].name, name) == 0)
            return notify_classes[i].mask;
    return -1;
}

int notify_class_mask(const char *list)
{
    argv_t *names = argv_split(list ? list : "", ARGV_LIST_DELIMITERS);
    int     mask = 0;

    for (size_t i = 0; i < names->count; i++) {
        int     bits = class_mask(names->items[i]);

        if (bits < 0)
            msg_warn("unknown notify_classes name \"%s\" ignored", names->items[i]);
        else
            mask |= bits;
    }
    argv_free(names);
    return mask;
}

void double_bounce_address(strbuf *out)
{
    strbuf_set(out, var_double_bounce_sender);
    if (strchr(out->data, '@') == NULL)
        strbuf_append_printf(out, "@%s", var_myhostname);
}

int is_double_bounce_address(const char *address)
{
    strbuf *mine = strbuf_new(64);
    int     same;

    double_bounce_address(mine);
    same = strcasecmp(mine->data, address) == 0;
    strbuf_free(mine);
    return same;
}

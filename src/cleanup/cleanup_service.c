/*
 * cleanup_service - one cleanup conversation (docs/protocols.md, "cleanup").
 *
 * cleanup_session(client) reads the request frame (flags), creates the
 * queue file in incoming/ and answers with its queue ID (status
 * CLEANUP_STAT_WRITE and no ID when no file can be created), then reads
 * the message as records: envelope (cleanup_envelope.c), content
 * (cleanup_message.c) up to X, the extracted section, E. At E it checks
 * that the message has recipients, adds automatic BCC recipients, and
 * lets cleanup_finish() commit, bounce or drop the file; the verdict frame
 * (status, reason) follows.
 *
 * An end record anywhere ends the message (out of place it is a protocol
 * error, answered), so a confused client never waits for a reply that does
 * not come. A record that cannot be parsed at all (bad type or length)
 * leaves the stream out of step: cleanup answers CLEANUP_STAT_BAD and
 * closes. A client that goes away (EOF, timeout) gets nothing; its file is
 * removed. Unknown flag bits are ignored.
 */
#include <sys/time.h>

#include "attr.h"
#include "cleanup.h"
#include "msg.h"
#include "record.h"

#define CLEANUP_FLAG_KNOWN \
    (CLEANUP_FLAG_BOUNCE | CLEANUP_FLAG_FILTER | CLEANUP_FLAG_HOLD | CLEANUP_FLAG_DISCARD \
     | CLEANUP_FLAG_MAP_OK | CLEANUP_FLAG_EXTRACT | CLEANUP_FLAG_LOCAL)

enum read_result { READ_END, READ_LOST, READ_GARBAGE };

static void reply(stream *client, int status, const char *reason)
{
    attr_put_int(client, "status", status);
    if (reason && *reason)
        attr_put_str(client, "reason", reason);
    (void) attr_end(client);
}

static int protocol_error(cleanup_state *state, int type)
{
    msg_warn("%s: unexpected record type '%c' from client", state->queue_id,
             type > 0x20 && type < 0x7f ? type : '?');
    cleanup_error(state, CLEANUP_STAT_BAD, "4.3.0 internal protocol error");
    return -1;
}

static void content_record(cleanup_state *state, int type, const strbuf *data)
{
    if (type == REC_TYPE_LINE || type == REC_TYPE_PARTIAL) {
        cleanup_content_record(state, type, data);
    } else if (type == REC_TYPE_EXTRACTED && data->len == 0) {
        cleanup_content_end(state);
        state->sizes.extracted_offset = (long) cleanup_out_offset(state);
        cleanup_out_record(state, REC_TYPE_EXTRACTED, "", 0);
        cleanup_write_extracted(state);
        state->stage = CLEANUP_STAGE_EXTRACTED;
    } else {
        protocol_error(state, type);
    }
}

static void dispatch(cleanup_state *state, int type, const strbuf *data)
{
    switch (state->stage) {
    case CLEANUP_STAGE_CONTENT:
        content_record(state, type, data);
        break;
    case CLEANUP_STAGE_EXTRACTED:
        if (type == REC_TYPE_ORIG_RCPT || type == REC_TYPE_DSN_ORCPT
            || type == REC_TYPE_DSN_NOTIFY || type == REC_TYPE_RCPT)
            cleanup_extracted_record(state, type, data);
        else
            protocol_error(state, type);
        break;
    default:
        cleanup_envelope_record(state, type, data);
        break;
    }
}

static enum read_result read_message(cleanup_state *state, stream *client)
{
    strbuf *data = strbuf_new(1024);
    enum read_result result;
    int     type;

    for (;;) {
        type = rec_get(client, data, REC_DATA_MAX);
        if (type == REC_EOF || type == REC_TRUNCATED || type == REC_IO_ERROR) {
            result = READ_LOST;
            break;
        }
        if (type < 0) {
            msg_warn("%s: %s from client", state->queue_id, rec_strerror(type));
            result = READ_GARBAGE;
            break;
        }
        if (type == REC_TYPE_END) {
            if (state->stage != CLEANUP_STAGE_EXTRACTED || data->len)
                protocol_error(state, type);
            result = READ_END;
            break;
        }
        dispatch(state, type, data);
    }
    strbuf_free(data);
    return result;
}

/* At the end record: recipients, automatic BCC, then commit or not. */
static void end_of_message(cleanup_state *state)
{
    if (state->stage != CLEANUP_STAGE_EXTRACTED)
        cleanup_error(state, CLEANUP_STAT_BAD, "4.3.0 internal protocol error");
    if (state->rcpt_count == 0 && state->errs == 0)
        cleanup_error(state, CLEANUP_STAT_RCPT, "%s", (state->flags & CLEANUP_FLAG_EXTRACT) ?
                      "5.1.0 No recipient addresses found in message header"
                      : "5.1.0 no recipients specified");
    cleanup_write_auto_bcc(state);
    if (state->flags & CLEANUP_FLAG_HOLD)
        state->hold = 1;
    if (state->flags & CLEANUP_FLAG_DISCARD)
        state->discard = 1;
    cleanup_finish(state);
}

void    cleanup_session(stream *client)
{
    cleanup_state *state;
    strbuf *why;
    int     flags = 0;
    attr_spec request[] = {ATTR_INT("flags", &flags), ATTR_END};

    if (attr_scan(client, 0, request) < 0)
        return;
    state = cleanup_state_new(flags & CLEANUP_FLAG_KNOWN);
    gettimeofday(&state->arrival, NULL);
    why = strbuf_new(64);
    if ((state->qf = queue_file_create(QUEUE_INCOMING, why)) == NULL) {
        msg_warn("%s", why->data);
        attr_put_int(client, "status", CLEANUP_STAT_WRITE);
        attr_put_str(client, "queue_id", "");
        (void) attr_end(client);
    } else {
        state->queue_id = state->qf->id;
        attr_put_int(client, "status", 0);
        attr_put_str(client, "queue_id", state->queue_id);
        if (attr_end(client) == 0) {
            switch (read_message(state, client)) {
            case READ_END:
                end_of_message(state);
                reply(client, state->errs, state->reason->data);
                break;
            case READ_GARBAGE:
                queue_file_abort(state->qf);
                state->qf = NULL;
                reply(client, CLEANUP_STAT_BAD, "4.3.0 internal protocol error");
                break;
            case READ_LOST:
                msg_warn("%s: lost connection with the client", state->queue_id);
                break;
            }
        }
        if (state->qf)
            queue_file_abort(state->qf);
    }
    strbuf_free(why);
    cleanup_state_free(state);
}

/*
 * deliver_request - the delivery request between qmgr and a delivery agent
 * (docs/protocols.md, "Delivery agents").
 *
 * Agent side: deliver_request_read() sends the "ready" frame, then reads the
 * request and its recipient frames into a deliver_request it returns (the
 * caller frees it with deliver_request_free()); NULL on a protocol error,
 * logged. deliver_request_reply() sends the result frame.
 *
 * qmgr side: deliver_request_send() waits for "ready" and sends a request;
 * deliver_reply_read() reads the result. qmgr itself writes the request
 * first (deliver_request_write()) and reads "ready" after it
 * (deliver_ready_read(): 0 when the agent said ready), saving a round trip.
 *
 * Every string in a request is checked on the way in: control characters,
 * oversize values and recipient counts above DELIVER_RCPT_MAX are refused.
 * Times travel as "SECONDS.MICROSECONDS".
 */
#ifndef POSTERN_DELIVER_REQUEST_H
#define POSTERN_DELIVER_REQUEST_H

#include <stddef.h>
#include <sys/time.h>

#include "stream.h"
#include "strbuf.h"

#define DELIVER_RCPT_MAX        100000
#define DELIVER_FLAG_RECORD     (1 << 0)        /* record outcomes in trace/ too */

#define DELIVER_STAT_OK         0               /* every recipient finished */
#define DELIVER_STAT_DEFER      1               /* some recipient deferred */

typedef struct deliver_recipient {
    char   *address;
    char   *orig_rcpt;
    char   *dsn_orcpt;
    int     dsn_notify;
    long    offset;
} deliver_recipient;

typedef struct deliver_request {
    int     flags;
    char   *queue_name;
    char   *queue_id;
    long    data_offset;
    long    data_size;
    char   *nexthop;
    char   *encoding;
    int     smtputf8;
    char   *sender;
    char   *dsn_envid;
    int     dsn_ret;
    char   *client_name;
    char   *client_address;
    char   *client_protocol;
    char   *client_helo;
    char   *sasl_username;
    char   *log_ident;
    char   *rewrite_context;
    struct timeval arrival_time;
    struct timeval active_time;
    struct timeval dispatch_time;
    struct timeval agent_time;          /* when the agent read the request */
    deliver_recipient *rcpt;
    size_t  rcpt_count;
} deliver_request;

typedef struct deliver_reply {
    int     status;
    int     site_failure;
    strbuf *dsn;
    strbuf *reason;
} deliver_reply;

deliver_request *deliver_request_read(stream *s);
int     deliver_request_reply(stream *s, int status, int site_failure, const char *dsn,
                              const char *reason);
void    deliver_request_free(deliver_request *req);

int     deliver_request_send(stream *s, const deliver_request *req);
int     deliver_request_write(stream *s, const deliver_request *req);
int     deliver_ready_read(stream *s);
void    deliver_reply_init(deliver_reply *reply);
int     deliver_reply_read(stream *s, deliver_reply *reply);
void    deliver_reply_free(deliver_reply *reply);

void    deliver_time_format(strbuf *out, const struct timeval *tv);
int     deliver_time_parse(const char *text, struct timeval *tv);

#endif

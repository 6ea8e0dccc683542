/*
 * smtpd_cmd - the SMTP commands: the table, the checks every command goes
 * through, and HELO, EHLO, MAIL, RCPT, RSET, NOOP, VRFY, ETRN, HELP, QUIT
 * (DATA and BDAT are in smtpd_data.c).
 *
 * smtpd_execute() runs the command in state->cmd: an empty line, bad
 * UTF-8, an unknown verb and non-SMTP input (a header-like line, or a verb
 * in smtpd_forbidden_commands such as an HTTP method) are answered here;
 * then improper pipelining is detected (more input waiting after a command
 * that must end a group, or any pipelining without EHLO) and logged; with
 * smtpd_forbid_unauth_pipelining the session ends there. Junk commands
 * beyond smtpd_junk_command_limit count as errors. Each handler replies
 * and returns SMTPD_OK, SMTPD_ERROR (counted in error_count) or
 * SMTPD_FAILED (a failure reply that is no error). Reply texts are
 * Postfix's. Once the client made smtpd_soft_error_limit errors, every
 * command waits smtpd_error_sleep_time before it is answered.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "anvil_clnt.h"
#include "dsn.h"
#include "flush_clnt.h"
#include "mail_params.h"
#include "mail_sanitize.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"
#include "valid_hostname.h"
#include "xtext.h"

#define CMDF_LAST   (1 << 0)            /* must be the last of a pipelined group */
#define CMDF_JUNK   (1 << 1)            /* counts toward smtpd_junk_command_limit */
#define CMDF_ANY    (1 << 2)            /* may be followed by anything (BDAT, QUIT) */
#define CMDF_PRE_TLS (1 << 3)           /* allowed before STARTTLS when TLS is enforced */

typedef struct smtpd_command {
    int     id;
    const char *verb;
    int     flags;
    int     (*action)(smtpd_state *state);
} smtpd_command;

/* The EHLO keywords, in Postfix's order; a discarded one also turns its feature off. */
static const char *const ehlo_keywords[] = {
    "PIPELINING", "SIZE", "VRFY", "ETRN", "STARTTLS", "AUTH", "ENHANCEDSTATUSCODES",
    "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING",
};

int smtpd_keyword_discarded(const char *keyword)
{
    argv_t *discard = smtpd_tables_in_use.discard_ehlo;

    for (size_t i = 0; discard && i < discard->count; i++)
        if (strcasecmp(discard->items[i], keyword) == 0)
            return 1;
    return 0;
}

static const char *args_text(const smtpd_state *state)
{
    return state->cmd->text->data + state->cmd->args;
}

static size_t args_len(const smtpd_state *state)
{
    return state->cmd->text->len - state->cmd->args;
}

void smtpd_transaction_reset(smtpd_state *state)
{
    smtpd_data_abort(state);
    free(state->sender);
    state->sender = NULL;
    for (size_t i = 0; i < state->rcpt_count; i++) {
        free(state->rcpts[i].address);
        free(state->rcpts[i].orcpt);
    }
    state->rcpt_count = 0;
    state->rcpt_overshoot = 0;
    state->log_recipient = NULL;
    state->cleanup_flags = 0;
    strbuf_reset(state->redirect);
    argv_truncate(state->bcc, 0);
    argv_truncate(state->prepend, 0);
    free(state->instance);
    state->instance = NULL;
    free(state->sasl_sender);
    state->sasl_sender = NULL;
    state->bdat = BDAT_NONE;
}

/* HELO and EHLO. */
static int helo_common(smtpd_state *state, int ehlo)
{
    const char *verb = ehlo ? "EHLO" : "HELO";

    if (smtp_cmdline_words(state->cmd) != 2 || (state->cmd->flags & SMTP_CMDLINE_CONTROL)) {
        smtpd_reply(state, "501 Syntax: %s hostname", verb);
        return SMTPD_ERROR;
    }
    smtpd_transaction_reset(state);
    free(state->helo_name);
    state->helo_name = xstrndup(args_text(state), strcspn(args_text(state), " \t"));
    state->protocol = ehlo ? "ESMTP" : "SMTP";
    if (!var_smtpd_delay_reject && smtpd_check_helo(state) != 0) {
        free(state->helo_name);
        state->helo_name = NULL;
        smtpd_reply(state, "%s", state->reply->data);
        return SMTPD_ERROR;
    }
    return SMTPD_OK;
}

static int helo_cmd(smtpd_state *state)
{
    if (helo_common(state, 0) != SMTPD_OK)
        return SMTPD_ERROR;
    smtpd_reply(state, "250 %s", var_myhostname);
    return SMTPD_OK;
}

/* The keyword's line (without "250-"), or NULL when it is not offered now. */
static const char *ehlo_keyword_text(const smtpd_state *state, const char *keyword, strbuf *text)
{
    if (smtpd_keyword_discarded(keyword)
        || (strcmp(keyword, "VRFY") == 0 && var_disable_vrfy_command)
        || (strcmp(keyword, "SMTPUTF8") == 0 && !var_smtputf8_enable)
        || (strcmp(keyword, "STARTTLS") == 0 && !smtpd_tls_offered(state)))
        return NULL;
    if (strcmp(keyword, "SIZE") == 0 && var_message_size_limit > 0)
        strbuf_printf(text, "SIZE %ld", var_message_size_limit);
    else
        strbuf_set(text, keyword);
    return text->data;
}

static int ehlo_cmd(smtpd_state *state)
{
    argv_t *lines;
    strbuf *text;

    if (helo_common(state, 1) != SMTPD_OK)
        return SMTPD_ERROR;
    lines = argv_new(16);
    text = strbuf_new(64);
    for (size_t i = 0; i < sizeof(ehlo_keywords) / sizeof(ehlo_keywords[0]); i++) {
        if (strcmp(ehlo_keywords[i], "AUTH") == 0)
            smtpd_sasl_ehlo_lines(state, lines);
        else if (ehlo_keyword_text(state, ehlo_keywords[i], text))
            argv_add(lines, text->data);
    }
    smtpd_reply(state, "250%c%s", lines->count ? '-' : ' ', var_myhostname);
    for (size_t i = 0; i < lines->count; i++)
        smtpd_reply(state, "250%c%s", i + 1 == lines->count ? ' ' : '-', lines->items[i]);
    strbuf_free(text);
    argv_free(lines);
    return SMTPD_OK;
}

/* Matches "FROM:" or "TO:" at the start of the arguments; returns the rest. */
static const char *after_prefix(smtpd_state *state, const char *prefix, size_t *len)
{
    size_t  plen = strlen(prefix);

    if (args_len(state) < plen || strncasecmp(args_text(state), prefix, plen) != 0)
        return NULL;
    *len = args_len(state) - plen;
    return args_text(state) + plen;
}

/* Flags for smtp_args_parse() from configuration and the session. */
static int args_flags(const smtpd_state *state)
{
    int     flags = 0;

    if (var_strict_rfc821_envelopes)
        flags |= SMTP_ARGS_STRICT;
    if (!smtpd_keyword_discarded("DSN"))
        flags |= SMTP_ARGS_DSN;
    if (var_smtputf8_enable && !smtpd_keyword_discarded("SMTPUTF8"))
        flags |= SMTP_ARGS_SMTPUTF8;
    if (state->sender && (state->mail_args->params & SMTP_PARAM_SMTPUTF8))
        flags |= SMTP_ARGS_UTF8_SESSION;
    if (smtpd_sasl_enabled())
        flags |= SMTP_ARGS_AUTH;
    return flags;
}

/* Applies an anvil rate limit; 1 when the client went over it. */
int smtpd_rate_exceeded(smtpd_state *state, const char *request, int limit, const char *what)
{
    int     rate = 0;

    if (limit <= 0 || smtpd_tables_in_use.event_limit_exceptions == NULL
        || host_list_match(smtpd_tables_in_use.event_limit_exceptions, state->name->data,
                           state->addr->data) != 0
        || anvil_clnt_request(request, state->anvil_ident->data, NULL, &rate) < 0
        || rate <= limit)
        return 0;
    msg_warn("%s rate limit exceeded: %d from %s for service %s", what, rate,
             state->namaddr->data, var_service_name);
    return 1;
}

static int mail_cmd(smtpd_state *state)
{
    const char *text;
    size_t  len;
    int     status;

    if (var_smtpd_helo_required && state->helo_name == NULL) {
        smtpd_reply(state, "503 5.5.1 Error: send HELO/EHLO first");
        return SMTPD_ERROR;
    }
    if (state->bdat != BDAT_NONE) {
        smtpd_reply(state, "503 5.5.1 Error: MAIL after BDAT");
        return SMTPD_ERROR;
    }
    if (state->sender) {
        smtpd_reply(state, "503 5.5.1 Error: nested MAIL command");
        return SMTPD_ERROR;
    }
    if ((text = after_prefix(state, "FROM:", &len)) == NULL) {
        smtpd_reply(state, "501 5.5.4 Syntax: MAIL FROM:<address>");
        return SMTPD_ERROR;
    }
    status = smtp_args_parse(state->mail_args, SMTP_ARGS_MAIL, text, len, args_flags(state));
    if (status != SMTP_ARGS_OK) {
        strbuf_reset(state->reply);
        smtp_args_reply(state->reply, state->mail_args);
        smtpd_reply(state, "%s", state->reply->data);
        return SMTPD_ERROR;
    }
    state->sender = xstrdup(state->mail_args->path->address->data);
    if ((state->mail_args->params & SMTP_PARAM_AUTH) && state->mail_args->auth->len) {
        strbuf *clean = strbuf_new(64);

        sanitize_printable(clean, state->mail_args->auth->data, state->mail_args->auth->len);
        state->sasl_sender = strbuf_steal(clean);
    }
    if ((state->mail_args->params & SMTP_PARAM_SIZE) && var_message_size_limit > 0
        && state->mail_args->size > var_message_size_limit) {
        smtpd_log_whatsup(state, "reject", "552 5.3.4 Message size exceeds fixed limit");
        smtpd_reply(state, "552 5.3.4 Message size exceeds fixed limit");
        smtpd_transaction_reset(state);
        return SMTPD_ERROR;
    }
    if (smtpd_rate_exceeded(state, ANVIL_MESSAGE, var_smtpd_client_message_rate_limit,
                      "Message delivery request")) {
        smtpd_reply(state, "450 4.7.1 Error: too much mail from %s", state->addr->data);
        smtpd_transaction_reset(state);
        return SMTPD_ERROR;
    }
    if (!var_smtpd_delay_reject && smtpd_check_mail(state) != 0) {
        smtpd_reply(state, "%s", state->reply->data);
        smtpd_transaction_reset(state);
        return SMTPD_ERROR;
    }
    smtpd_reply(state, "250 2.1.0 Ok");
    return SMTPD_OK;
}

/* Keeps an accepted recipient for the envelope; `text` is what followed "TO:". */
static void add_recipient(smtpd_state *state, const char *text)
{
    smtp_args *args = state->rcpt_args;
    smtpd_recipient *rcpt;
    strbuf *orcpt = strbuf_new(64);

    if (state->rcpt_count == state->rcpt_space) {
        state->rcpt_space = state->rcpt_space ? 2 * state->rcpt_space : 16;
        state->rcpts = xrealloc(state->rcpts, state->rcpt_space * sizeof(*state->rcpts));
    }
    rcpt = state->rcpts + state->rcpt_count++;
    rcpt->address = xstrdup(args->path->address->data);
    if (args->params & SMTP_PARAM_ORCPT)
        orcpt_encode(orcpt, args->orcpt_type->data, args->orcpt->data, args->orcpt->len);
    else
        orcpt_encode(orcpt, "rfc822", text + args->path->text_offset, args->path->text_len);
    rcpt->orcpt = strbuf_steal(orcpt);
    rcpt->notify = (args->params & SMTP_PARAM_NOTIFY) ? args->notify : 0;
}

static int rcpt_cmd(smtpd_state *state)
{
    const char *text;
    size_t  len;
    int     status;

    if (state->sender == NULL) {
        smtpd_reply(state, "503 5.5.1 Error: need MAIL command");
        return SMTPD_ERROR;
    }
    if (state->bdat != BDAT_NONE) {
        smtpd_reply(state, "503 5.5.1 Error: RCPT after BDAT");
        return SMTPD_ERROR;
    }
    if ((text = after_prefix(state, "TO:", &len)) == NULL) {
        smtpd_reply(state, "501 5.5.4 Syntax: RCPT TO:<address>");
        return SMTPD_ERROR;
    }
    if (state->rcpt_count >= (size_t) var_smtpd_recipient_limit) {
        smtpd_reply(state, "452 4.5.3 Error: too many recipients");
        return state->rcpt_overshoot++ < var_smtpd_recipient_overshoot_limit
            ? SMTPD_FAILED : SMTPD_ERROR;
    }
    status = smtp_args_parse(state->rcpt_args, SMTP_ARGS_RCPT, text, len, args_flags(state));
    if (status != SMTP_ARGS_OK) {
        strbuf_reset(state->reply);
        smtp_args_reply(state->reply, state->rcpt_args);
        smtpd_reply(state, "%s", state->reply->data);
        return SMTPD_ERROR;
    }
    if (smtpd_rate_exceeded(state, ANVIL_RECIPIENT, var_smtpd_client_recipient_rate_limit,
                      "Recipient address")) {
        smtpd_reply(state, "450 4.7.1 Error: too many recipients from %s", state->addr->data);
        return SMTPD_ERROR;
    }
    if (smtpd_check_rcpt(state, state->rcpt_args->path->address->data) != 0) {
        smtpd_reply(state, "%s", state->reply->data);
        return SMTPD_ERROR;
    }
    add_recipient(state, text);
    smtpd_reply(state, "250 2.1.5 Ok");
    return SMTPD_OK;
}

static int rset_cmd(smtpd_state *state)
{
    if (smtp_cmdline_words(state->cmd) != 1) {
        smtpd_reply(state, "501 5.5.4 Syntax: RSET");
        return SMTPD_ERROR;
    }
    smtpd_transaction_reset(state);
    smtpd_reply(state, "250 2.0.0 Ok");
    return SMTPD_OK;
}

static int noop_cmd(smtpd_state *state)
{
    if (smtp_cmdline_words(state->cmd) != 1) {
        smtpd_reply(state, "501 5.5.4 Syntax: NOOP");
        return SMTPD_ERROR;
    }
    smtpd_reply(state, "250 2.0.0 Ok");
    return SMTPD_OK;
}

static int quit_cmd(smtpd_state *state)
{
    smtpd_reply(state, "221 2.0.0 Bye");
    state->quit = 1;
    return SMTPD_OK;
}

static int help_cmd(smtpd_state *state)
{
    smtpd_reply(state, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP VRFY"
                " ETRN HELP QUIT");
    return SMTPD_OK;
}

/* VRFY address [SMTPUTF8]: 252 for a recipient smtpd would accept. */
static int vrfy_cmd(smtpd_state *state)
{
    smtp_path *path;
    const char *rest;
    int     status = SMTPD_ERROR;

    if (var_disable_vrfy_command || smtpd_keyword_discarded("VRFY")) {
        smtpd_reply(state, "502 5.5.1 VRFY command is disabled");
        return SMTPD_ERROR;
    }
    if (args_len(state) == 0) {
        smtpd_reply(state, "501 5.5.4 Syntax: VRFY address [SMTPUTF8]");
        return SMTPD_ERROR;
    }
    path = smtp_path_new();
    if (smtp_path_parse(path, args_text(state), args_len(state), 0) != SMTP_PATH_OK
        || (*(rest = args_text(state) + path->end + strspn(args_text(state) + path->end,
                                                              " \t"))
            && strcasecmp(rest, "SMTPUTF8") != 0)) {
        smtpd_reply(state, "501 5.1.3 Bad recipient address syntax");
    } else if (smtpd_check_vrfy(state, path->address->data) != 0) {
        smtpd_reply(state, "%s", state->reply->data);
    } else {
        smtpd_reply(state, "252 2.0.0 %.*s", (int) path->end, args_text(state));
        status = SMTPD_OK;
    }
    smtp_path_free(path);
    return status;
}

static int etrn_reply(smtpd_state *state, const char *domain)
{
    switch (flush_clnt_send_site(domain)) {
    case FLUSH_STAT_OK:
        smtpd_reply(state, "250 Queuing started");
        return SMTPD_OK;
    case FLUSH_STAT_DENY:
    case FLUSH_STAT_UNKNOWN:
        msg_warn("reject: ETRN %.100s... from %s", domain, state->namaddr->data);
        smtpd_reply(state, "459 <%s>: service unavailable", domain);
        return SMTPD_ERROR;
    case FLUSH_STAT_BAD:
        msg_warn("bad ETRN %.100s... from %s", domain, state->namaddr->data);
        smtpd_reply(state, "458 Unable to queue messages");
        return SMTPD_ERROR;
    default:
        msg_warn("unable to talk to fast flush service");
        smtpd_reply(state, "458 Unable to queue messages");
        return SMTPD_ERROR;
    }
}

static int etrn_cmd(smtpd_state *state)
{
    const char *domain = args_text(state);

    if (smtpd_keyword_discarded("ETRN")) {
        smtpd_reply(state, "502 5.5.1 Error: command not implemented");
        return SMTPD_ERROR;
    }
    if (state->helo_name == NULL) {
        smtpd_reply(state, "503 Error: send HELO/EHLO first");
        return SMTPD_ERROR;
    }
    if (state->sender) {
        smtpd_reply(state, "503 Error: MAIL transaction in progress");
        return SMTPD_ERROR;
    }
    if (smtp_cmdline_words(state->cmd) != 2 || (state->cmd->flags & SMTP_CMDLINE_CONTROL)) {
        smtpd_reply(state, "500 Syntax: ETRN domain");
        return SMTPD_ERROR;
    }
    if (*domain == '@' || *domain == '#')
        domain++;
    if (!valid_hostname(domain, strlen(domain), HOSTNAME_ALLOW_UNDERSCORE)
        && !valid_address_literal(domain, strlen(domain))) {
        smtpd_reply(state, "501 Error: invalid parameter syntax");
        return SMTPD_ERROR;
    }
    if (smtpd_check_etrn(state, domain) != 0) {
        smtpd_reply(state, "%s", state->reply->data);
        return SMTPD_ERROR;
    }
    return etrn_reply(state, domain);
}

static const smtpd_command commands[] = {
    {CMD_HELO, "HELO", CMDF_LAST | CMDF_JUNK | CMDF_PRE_TLS, helo_cmd},
    {CMD_EHLO, "EHLO", CMDF_LAST | CMDF_JUNK | CMDF_PRE_TLS, ehlo_cmd},
    {CMD_STARTTLS, "STARTTLS", CMDF_LAST | CMDF_PRE_TLS, smtpd_starttls_cmd},
    {CMD_AUTH, "AUTH", 0, smtpd_auth_cmd},
    {CMD_MAIL, "MAIL", 0, mail_cmd},
    {CMD_RCPT, "RCPT", 0, rcpt_cmd},
    {CMD_DATA, "DATA", CMDF_LAST, smtpd_data_cmd},
    {CMD_BDAT, "BDAT", CMDF_ANY, smtpd_bdat_cmd},
    {CMD_RSET, "RSET", CMDF_JUNK, rset_cmd},
    {CMD_NOOP, "NOOP", CMDF_LAST | CMDF_JUNK | CMDF_PRE_TLS, noop_cmd},
    {CMD_VRFY, "VRFY", CMDF_LAST | CMDF_JUNK, vrfy_cmd},
    {CMD_ETRN, "ETRN", CMDF_LAST | CMDF_JUNK, etrn_cmd},
    {CMD_QUIT, "QUIT", CMDF_ANY | CMDF_PRE_TLS, quit_cmd},
    {CMD_HELP, "HELP", CMDF_LAST | CMDF_JUNK, help_cmd},
};

static const smtpd_command *find_command(const smtpd_state *state)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (smtp_cmdline_verb_is(state->cmd, commands[i].verb))
            return commands + i;
    return NULL;
}

/* A line that is no SMTP: a header, an HTTP method, a forbidden verb. */
static int non_smtp(const smtp_cmdline *cmd)
{
    strbuf *verb;
    int     forbidden;

    if (cmd->text->len == 0 || (var_smtputf8_enable && (cmd->flags & SMTP_CMDLINE_BAD_UTF8)))
        return 0;
    if (smtp_cmdline_header_like(cmd))
        return 1;
    verb = strbuf_new(32);
    strbuf_set_mem(verb, cmd->text->data, cmd->verb_len);
    forbidden = string_list_match(smtpd_tables_in_use.forbidden_commands, verb->data) > 0;
    strbuf_free(verb);
    return forbidden;
}

/* Answers an empty line, bad UTF-8 or an unknown verb. */
static void unknown_command(smtpd_state *state)
{
    smtp_cmdline *cmd = state->cmd;

    state->where = "UNKNOWN";
    state->total[CMD_UNKNOWN]++;
    if (non_smtp(cmd)) {
        strbuf *shown = strbuf_new(128);

        sanitize_printable(shown, cmd->text->data, cmd->text->len > 100 ? 100 : cmd->text->len);
        msg_warn("non-SMTP command from %s: %s", state->namaddr->data, shown->data);
        strbuf_free(shown);
        smtpd_reply(state, "221 2.7.0 Error: I can break rules, too. Goodbye.");
        state->quit = 1;
        return;
    }
    state->error_count++;
    if (cmd->text->len == 0)
        smtpd_reply(state, "500 5.5.2 Error: bad syntax");
    else if (var_smtputf8_enable && (cmd->flags & SMTP_CMDLINE_BAD_UTF8))
        smtpd_reply(state, "500 5.5.2 Error: bad UTF-8 syntax");
    else
        smtpd_reply(state, "500 5.5.2 Error: command not recognized");
}

/* Commands sent ahead where the client should have waited for a reply. */
static int improper_pipelining(smtpd_state *state, const smtpd_command *command)
{
    int     esmtp_pipelining = strcmp(state->protocol, "ESMTP") == 0
        && !smtpd_keyword_discarded("PIPELINING");

    if (state->ill_pipelining || (command->flags & CMDF_ANY)
        || (esmtp_pipelining && !(command->flags & CMDF_LAST))
        || !smtpd_input_pending(state))
        return 0;
    state->ill_pipelining = 1;
    msg_info("improper command pipelining after %s from %s: %s", command->verb,
             state->namaddr->data, smtpd_pending_text(state));
    return var_smtpd_forbid_unauth_pipelining;
}

/* Slows down a client that made smtpd_soft_error_limit errors or more. */
static void error_sleep(smtpd_state *state)
{
    if (state->error_count < var_smtpd_soft_error_limit || var_smtpd_error_sleep_time <= 0)
        return;
    smtpd_reply_flush(state);
    sleep((unsigned) var_smtpd_error_sleep_time);
}

void smtpd_execute(smtpd_state *state)
{
    const smtpd_command *command;
    int     status;

    error_sleep(state);
    if (state->cmd->text->len == 0 || (var_smtputf8_enable && (state->cmd->flags
                                                               & SMTP_CMDLINE_BAD_UTF8))
        || (command = find_command(state)) == NULL) {
        unknown_command(state);
        return;
    }
    state->total[command->id]++;
    if (improper_pipelining(state, command)) {
        smtpd_reply(state, "554 5.5.0 Error: SMTP protocol synchronization");
        state->quit = 1;
        return;
    }
    state->where = command->verb;
    if (state->access_denied && command->id != CMD_QUIT) {
        smtpd_reply(state, "503 5.7.0 Error: access denied for %s", state->namaddr->data);
        state->error_count++;
        return;
    }
    if (state->tls == NULL && smtpd_tls_enforced() && !(command->flags & CMDF_PRE_TLS)) {
        smtpd_reply(state, "530 5.7.0 Must issue a STARTTLS command first");
        state->error_count++;
        return;
    }
    if ((command->flags & CMDF_JUNK) && state->junk_commands++ > var_smtpd_junk_command_limit)
        state->error_count++;
    status = command->action(state);
    if (status == SMTPD_OK)
        state->ok[command->id]++;
    else if (status == SMTPD_ERROR)
        state->error_count++;
}

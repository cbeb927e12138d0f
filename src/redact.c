/*-------------------------------------------------------------------------
 *
 * redact.c
 *	  Keeping unlock-token secrets out of the server log and the trail.
 *
 * A token is presented with "SET tfguard.token = 'tfg1_...'", so the secret
 * travels in statement text: log_statement, log_min_error_statement, GUC
 * error messages, extended-protocol parameter logging.  Every message on
 * its way to the log passes emit_log_hook, where the secret part of any
 * token is replaced; the audit trail and pg_stat_activity get the same
 * treatment from their writers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "pgstat.h"
#include "tcop/tcopprot.h"
#include "utils/elog.h"
#include "utils/memutils.h"

#include "redact.h"
#include "tfguard.h"

static emit_log_hook_type prev_emit_log_hook = NULL;

#define REDACTED "[redacted]"

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		(c >= 'A' && c <= 'F');
}

/* Where the hex run starting at p ends. */
static const char *
hex_run_end(const char *p)
{
	while (is_hex(*p))
		p++;
	return p;
}

/*
 * Find the next secret at or after p in text: what follows the tfg1_
 * prefix, or a bare run of exactly 40 hex digits, which is how a secret
 * looks when its prefix was spelled another way (E'\x74fg1_...',
 * 'tfg1' || '_...').  Returns its start, or NULL; *end is set past it.
 */
static const char *
next_secret(const char *text, const char *p, const char **end)
{
	size_t		prefix_len = strlen(TFGUARD_TOKEN_PREFIX);

	for (; *p; p++)
	{
		const char *secret = NULL;

		if (strncmp(p, TFGUARD_TOKEN_PREFIX, prefix_len) == 0)
			secret = p + prefix_len;
		else if (is_hex(*p) && (p == text || !is_hex(p[-1])) &&
				 hex_run_end(p) - p == 40)
			secret = p;
		if (secret != NULL && (*end = hex_run_end(secret)) > secret)
			return secret;
	}
	return NULL;
}

/* Does the text hold a secret?  Allocates nothing. */
static bool
contains_secret(const char *text)
{
	const char *end;

	return text != NULL && next_secret(text, text, &end) != NULL;
}

/*
 * The text with every secret replaced.  Returns the text itself when it
 * holds none, so that the common case copies nothing.
 */
const char *
tfguard_redact_tokens(const char *text)
{
	StringInfoData out;
	const char *copied = text;
	const char *secret;
	const char *end;

	if (!contains_secret(text))
		return text;
	initStringInfo(&out);
	while ((secret = next_secret(text, copied, &end)) != NULL)
	{
		appendBinaryStringInfo(&out, copied, secret - copied);
		appendStringInfoString(&out, REDACTED);
		copied = end;
	}
	appendStringInfoString(&out, copied);
	return out.data;
}

/*
 * pg_stat_activity shows the running statement to other sessions of the
 * same role: replace it with the redacted text if it holds a secret.
 * Called before anything that can fail on a statement that may present a
 * token, and again when an error is reported (a SET in an aborted
 * transaction fails before any hook sees it).
 */
void
tfguard_redact_activity(void)
{
	/*
	 * What pg_stat_activity shows is the client's string, whatever nested
	 * statement (a function's body, SPI) is running.
	 */
	if (debug_query_string != NULL && contains_secret(debug_query_string))
		pgstat_report_activity(STATE_RUNNING, tfguard_redact_tokens(debug_query_string));
}

static void
redact_field(char **field)
{
	if (contains_secret(*field))
		*field = (char *) tfguard_redact_tokens(*field);
}

/*
 * emit_log_hook: PostgreSQL calls it for every message about to be sent to
 * the server log or the client.  tfguard rewrites token secrets out of it,
 * and hides the statement when the statement holds one.
 */
static void
tfguard_emit_log(ErrorData *edata)
{
	MemoryContext oldcontext = MemoryContextSwitchTo(edata->assoc_context);

	redact_field(&edata->message);
	redact_field(&edata->detail);
	redact_field(&edata->detail_log);
	redact_field(&edata->hint);
	redact_field(&edata->context);
	redact_field(&edata->internalquery);
	if (contains_secret(debug_query_string))
	{
		edata->hide_stmt = true;
		if (edata->elevel >= ERROR)
			tfguard_redact_activity();
	}
	MemoryContextSwitchTo(oldcontext);

	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

void
tfguard_redact_init(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = tfguard_emit_log;
}

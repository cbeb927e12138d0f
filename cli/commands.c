/*-------------------------------------------------------------------------
 *
 * commands.c
 *	  The commands of the tfguard command-line tool: each runs the
 *	  extension's SQL functions and views and shows the answer.
 *
 * Every command's usage, description and options are in commands[], the
 * one source for the usage lines, --help and the checks of the command
 * line.  Nothing here decides anything the server does not.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "cli.h"

#define DEFAULT_TTL_S (15 * 60)
#define DEFAULT_SINCE_S 3600

/* Seconds as the options write them: 1h30m, 15m, 45s, 1000y. */
static void
format_duration(long long seconds, char *out, size_t size)
{
	static const struct
	{
		char		unit;
		long long	seconds;
	}			parts[] = {{'y', 31536000}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
	size_t		len = 0;
	bool		zero = seconds == 0;

	out[0] = '\0';
	for (int i = 0; i < 5; i++)
		if (seconds >= parts[i].seconds || (zero && i == 4))
		{
			len += snprintf(out + len, size - len, "%lld%c", seconds / parts[i].seconds,
							parts[i].unit);
			seconds %= parts[i].seconds;
			if (len >= size)
				break;
		}
}

/* The duration given for an option, in seconds, as an interval parameter. */
static long long
duration_arg(const char *given, long long default_s, char *param, size_t size)
{
	long long	seconds = given ? parse_duration(given) : default_s;

	snprintf(param, size, "%lld seconds", seconds);
	return seconds;
}

#define PENDING_SQL \
	"SELECT audit_id, date_trunc('second', now() - logged_at) AS age, role," \
	" database_name AS database, operation, object_name AS object, impact, statement" \
	" FROM tfguard.pending"

static int
cmd_pending(PGconn *conn, const Invocation *inv)
{
	print_rows(conn, PENDING_SQL, 0, NULL);
	return 0;
}

/* The operations that record a decision about something, not an attempt. */
#define NOT_REQUESTS "('approve', 'deny', 'issue_token', 'revoke_token', 'present_token')"

/* The id of the request a row is about: a decision or a use refers to it. */
#define REQUEST_OF_SHOWN \
	"(SELECT coalesce(refers_to, id) FROM tfguard.audit_log WHERE id = $1)"

/*
 * The human's decision on the request: approved or denied, by whom, when,
 * why, and for an approval the ttl granted, until when, and what became
 * of it.  The ttl comes from tfguard.tokens while the approval is there,
 * else from the approval's record ("approved for N s"); the approval is
 * revoked by a revoke_token row naming it, used by the rows that refer to
 * the request with its id.
 */
#define DECISION_SQL \
	"SELECT CASE d.operation WHEN 'approve' THEN 'approved' ELSE 'denied' END AS decision," \
	" d.session_role AS decided_by, date_trunc('second', d.logged_at) AS decided_at," \
	" d.id AS decision_audit_id, substring(d.detail FROM '(?:^|; )reason=(.*)$') AS reason," \
	" CASE WHEN d.operation = 'approve' THEN d.token_id END AS approval_id, g.ttl_seconds," \
	" date_trunc('second', coalesce(t.expires_at," \
	"   d.logged_at + make_interval(secs => g.ttl_seconds))) AS until," \
	" CASE WHEN d.operation = 'deny' THEN NULL" \
	"      WHEN t.live THEN 'live'" \
	"      WHEN u.uses > 0 THEN 'used'" \
	"      WHEN EXISTS (SELECT FROM tfguard.audit_log r WHERE r.operation = 'revoke_token'" \
	"                   AND r.token_id = d.token_id) THEN 'revoked'" \
	"      WHEN coalesce(t.expires_at, d.logged_at + make_interval(secs => g.ttl_seconds))" \
	"           <= now() THEN 'expired unused'" \
	"      ELSE 'ended unused (its session ended)' END AS approval_state," \
	" CASE WHEN d.operation = 'approve' THEN u.uses END AS uses" \
	" FROM tfguard.audit_log d" \
	" LEFT JOIN tfguard.tokens t ON t.id = d.token_id AND d.operation = 'approve'" \
	" CROSS JOIN LATERAL (SELECT coalesce(round(extract(epoch FROM t.expires_at - t.issued_at))::bigint," \
	"   substring(d.detail FROM '^approved for (\\d+) s')::bigint) AS ttl_seconds) g" \
	" CROSS JOIN LATERAL (SELECT count(*) AS uses FROM tfguard.audit_log x" \
	"   WHERE x.refers_to = d.refers_to AND x.token_id = d.token_id" \
	"   AND x.operation NOT IN ('approve', 'deny', 'claim_approval')) u" \
	" WHERE d.refers_to = " REQUEST_OF_SHOWN " AND d.operation IN ('approve', 'deny')" \
	" ORDER BY d.id DESC LIMIT 1"

/*
 * The row itself, in the order of the story: who asked, from where and
 * when, what, what it would destroy, and where it stands.
 */
#define SHOW_SQL \
	"SELECT a.id AS audit_id," \
	" CASE WHEN a.decision <> 'blocked' OR a.refers_to IS NOT NULL" \
	"           OR a.operation IN " NOT_REQUESTS " THEN ''" \
	"      WHEN EXISTS (SELECT FROM tfguard.pending p WHERE p.audit_id = a.id) THEN 'pending'" \
	"      WHEN d.decision = 'approved' THEN 'approved (' || d.approval_state || ')'" \
	"      WHEN d.decision IS NOT NULL THEN d.decision" \
	"      ELSE 'closed without a decision' END AS status," \
	" a.logged_at, a.session_role AS role, a.\"current_role\", a.database_name AS database," \
	" coalesce(host(a.client_addr), 'local (Unix socket)') AS client_addr, a.application_name," \
	" a.backend_pid, a.operation, a.object_name AS object, a.decision, a.impact, a.statement," \
	" a.detail, a.token_id, a.refers_to" \
	" FROM tfguard.audit_log a LEFT JOIN LATERAL (" DECISION_SQL ") d ON true" \
	" WHERE a.id = $1"

/*
 * The rest of the story: the request a row refers to, every row that
 * refers to the same request (approval, denial, claim, each use), and the
 * rows about the same token or approval (its issue, presentations,
 * revocation, uses), with how long an unlock lasts while it is there.
 */
#define RELATED_SQL \
	"SELECT r.id AS audit_id, date_trunc('second', r.logged_at) AS logged_at," \
	" r.session_role AS role, r.operation, r.object_name AS object, r.decision, r.token_id," \
	" date_trunc('second', t.expires_at) AS expires_at, t.live, r.detail" \
	" FROM tfguard.audit_log a JOIN tfguard.audit_log r" \
	"   ON (r.id = coalesce(a.refers_to, a.id) OR r.refers_to = coalesce(a.refers_to, a.id)" \
	"       OR r.token_id = a.token_id" \
	"       OR r.token_id IN (SELECT d.token_id FROM tfguard.audit_log d" \
	"                         WHERE d.refers_to = coalesce(a.refers_to, a.id)" \
	"                         AND d.operation = 'approve'))" \
	"  AND r.id <> a.id" \
	" LEFT JOIN tfguard.tokens t ON t.id = r.token_id" \
	"  AND r.operation IN ('approve', 'issue_token')" \
	" WHERE a.id = $1 ORDER BY r.id"

/* The decision, as a human reads it; false if there is none yet. */
static bool
print_decision(PGconn *conn, FILE *out, const char *id)
{
	const char *params[1] = {id};
	PGresult   *res = run(conn, DECISION_SQL, 1, params);
	bool		found = PQntuples(res) == 1;

	if (found)
	{
		bool		approved = strcmp(PQgetvalue(res, 0, 0), "approved") == 0;

		fprintf(out, "\ndecision:\n  %-15s by ", PQgetvalue(res, 0, 0));
		print_safe(out, PQgetvalue(res, 0, 1), false);
		fprintf(out, " at %s (audit id %s)\n", PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
		fprintf(out, "  %-15s ", "reason");
		print_safe(out, PQgetisnull(res, 0, 4) ? "(none given)" : PQgetvalue(res, 0, 4), false);
		fputc('\n', out);
		if (approved)
		{
			char		ttl[32] = "unknown";

			if (!PQgetisnull(res, 0, 6))
				format_duration(atoll(PQgetvalue(res, 0, 6)), ttl, sizeof(ttl));
			fprintf(out, "  %-15s %s, until %s\n", "ttl granted", ttl, PQgetvalue(res, 0, 7));
			fprintf(out, "  %-15s %s: %s, %s use%s\n", "approval", PQgetvalue(res, 0, 5),
					PQgetvalue(res, 0, 8), PQgetvalue(res, 0, 9),
					strcmp(PQgetvalue(res, 0, 9), "1") == 0 ? "" : "s");
		}
	}
	PQclear(res);
	return found;
}

/* Print the whole story of one row of the trail to out; false if there is none. */
static bool
print_story(PGconn *conn, FILE *out, const char *id)
{
	const char *params[1] = {id};
	Table		table = {out, NULL, false};
	PGresult   *res;

	if (json_output && out == stdout)
		return print_json(conn, "SELECT s.*,"
						  " (SELECT row_to_json(d) FROM (" DECISION_SQL ") d) AS human_decision,"
						  " (SELECT coalesce(json_agg(h), '[]') FROM (" RELATED_SQL ") h) AS related"
						  " FROM (" SHOW_SQL ") s",
						  1, params, true) > 0;

	res = run(conn, SHOW_SQL, 1, params);
	if (PQntuples(res) == 0)
		return false;
	print_fields(out, res, 0, PQnfields(res));
	PQclear(res);

	if (!print_decision(conn, out, id))
		fprintf(out, "\ndecision: none\n");

	res = run(conn, RELATED_SQL, 1, params);
	fprintf(out, "\nrelated rows of the trail (the request, its decision, each use):%s\n",
			PQntuples(res) ? "" : " none yet");
	if (PQntuples(res))
		print_table(&table, res, false);
	free(table.width);
	PQclear(res);
	return true;
}

static int
cmd_show(PGconn *conn, const Invocation *inv)
{
	if (!print_story(conn, stdout, inv->operand))
		fail(EXIT_REFUSED, "audit id %s does not exist", inv->operand);
	return 0;
}

/*
 * Before approving without --yes: show the attempt and have the human
 * type its object's name (on standard error with --json).
 */
static void
confirm_by_name(PGconn *conn, const char *id)
{
	const char *params[1] = {id};
	FILE	   *out = json_output ? stderr : stdout;
	PGresult   *res = run(conn, "SELECT object_name FROM tfguard.pending WHERE audit_id = $1",
						  1, params);
	char		typed[1024];

	if (PQntuples(res) == 0)
		fail(EXIT_REFUSED, "audit id %s is not pending (see \"%s show %s\")", id, progname, id);
	print_story(conn, out, id);
	fprintf(out, "\nType the object's name (");
	print_safe(out, PQgetvalue(res, 0, 0), false);
	fprintf(out, ") to approve: ");
	fflush(out);
	if (fgets(typed, sizeof(typed), stdin) == NULL)
		typed[0] = '\0';
	typed[strcspn(typed, "\r\n")] = '\0';
	if (strcmp(typed, PQgetvalue(res, 0, 0)) != 0)
		fail(EXIT_REFUSED, "the name did not match: nothing was approved");
	PQclear(res);
}

/* An unlock as the server granted it: its id, lifetime and end. */
#define UNLOCK_COLUMNS \
	" round(extract(epoch FROM expires_at - issued_at))::bigint AS ttl_seconds," \
	" date_trunc('second', expires_at) AS expires_at FROM tfguard.tokens"

/* "for 1h, until ...": what the server granted, and whether it capped what was asked. */
static void
print_granted(FILE *out, const char *ttl_seconds, const char *expires_at, long long asked)
{
	char		granted[32];
	char		wanted[32];

	format_duration(atoll(ttl_seconds), granted, sizeof(granted));
	format_duration(asked, wanted, sizeof(wanted));
	fprintf(out, "for %s, until %s", granted, expires_at);
	if (atoll(ttl_seconds) < asked)
		fprintf(out, " (tfguard.max_ttl capped the %s asked for)", wanted);
}

static int
cmd_approve(PGconn *conn, const Invocation *inv)
{
	char		ttl[32];
	long long	asked = duration_arg(option_value(inv, OPT_TTL), DEFAULT_TTL_S, ttl, sizeof(ttl));
	const char *params[3] = {inv->operand, ttl, option_value(inv, OPT_REASON)};
	const char *granted_params[2];
	PGresult   *res;

	if (!option_value(inv, OPT_YES))
		confirm_by_name(conn, inv->operand);
	res = run(conn, "SELECT tfguard.approve($1::bigint, $2::interval, $3)", 3, params);
	granted_params[0] = PQgetvalue(res, 0, 0);
	granted_params[1] = inv->operand;

#define GRANTED_SQL \
	"SELECT $2::bigint AS audit_id, id AS approval_id," UNLOCK_COLUMNS " WHERE id = $1"
	if (json_output)
		print_json(conn, GRANTED_SQL, 2, granted_params, true);
	else
	{
		PGresult   *granted = run(conn, GRANTED_SQL, 2, granted_params);

		printf("approved audit id %s (approval %s) ", inv->operand, granted_params[0]);
		if (PQntuples(granted) == 1)
			print_granted(stdout, PQgetvalue(granted, 0, 2), PQgetvalue(granted, 0, 3), asked);
		putchar('\n');
		PQclear(granted);
	}
	PQclear(res);
	return 0;
}

static int
cmd_deny(PGconn *conn, const Invocation *inv)
{
	const char *params[2] = {inv->operand, option_value(inv, OPT_REASON)};

	PQclear(run(conn, "SELECT tfguard.deny($1::bigint, $2)", 2, params));
	if (json_output)
		print_json(conn, "SELECT $1::bigint AS audit_id, 'denied' AS decision, $2::text AS reason",
				   2, params, true);
	else
		printf("denied audit id %s\n", inv->operand);
	return 0;
}

/* A text[] literal of the values, each quoted. */
static char *
array_literal(const char **values, int n)
{
	Buf			out = {0};

	buf_puts(&out, "{");
	for (int i = 0; i < n; i++)
	{
		buf_puts(&out, i ? ",\"" : "\"");
		for (const char *v = values[i]; *v; v++)
		{
			if (*v == '"' || *v == '\\')
				buf_puts(&out, "\\");
			buf_append(&out, v, 1);
		}
		buf_puts(&out, "\"");
	}
	buf_puts(&out, "}");
	return out.data;
}

/*
 * The token just issued, read back from tfguard.tokens (which never shows
 * a secret): the first this role issued for that role since the issuing
 * statement began.
 */
#define ISSUED_SQL \
	"SELECT id AS token_id, role, operations, objects, database," UNLOCK_COLUMNS \
	" WHERE role = $1 AND issued_by = current_user AND approves IS NULL" \
	" AND issued_at >= $2::timestamptz ORDER BY issued_at LIMIT 1"

static int
cmd_issue(PGconn *conn, const Invocation *inv)
{
	const char **ops = calloc(inv->ngiven, sizeof(char *));
	const char **objects = calloc(inv->ngiven, sizeof(char *));
	int			nops = option_values(inv, OPT_OP, ops);
	int			nobjects = option_values(inv, OPT_OBJECT, objects);
	char		ttl[32];
	long long	asked = duration_arg(option_value(inv, OPT_TTL), DEFAULT_TTL_S, ttl, sizeof(ttl));
	const char *params[6] = {option_value(inv, OPT_ROLE), array_literal(ops, nops),
		nobjects ? array_literal(objects, nobjects) : NULL, ttl,
	option_value(inv, OPT_DB), option_value(inv, OPT_REASON)};
	const char *issued_params[2];
	PGresult   *res;
	PGresult   *issued;

	res = run(conn, "SELECT t0, secret, to_json(secret) FROM (SELECT statement_timestamp() AS t0,"
			  " tfguard.issue_token($1::name, $2::text[], $3::text[], $4::interval, $5::name, $6)"
			  " AS secret OFFSET 0) s", 6, params);
	issued_params[0] = params[0];
	issued_params[1] = PQgetvalue(res, 0, 0);
	if (json_output)
	{
		/* the secret never goes back to the server: its JSON is spliced in */
		issued = run(conn, "SELECT row_to_json(r) FROM (" ISSUED_SQL ") r", 2, issued_params);
		printf("{\"token\":%s%s%s\n", PQgetvalue(res, 0, 2), PQntuples(issued) ? "," : "}",
			   PQntuples(issued) ? PQgetvalue(issued, 0, 0) + 1 : "");
	}
	else
	{
		issued = run(conn, ISSUED_SQL, 2, issued_params);
		fprintf(stderr, "token ");
		if (PQntuples(issued) == 1)
		{
			fprintf(stderr, "%s for role ", PQgetvalue(issued, 0, 0));
			print_safe(stderr, params[0], false);
			fputc(' ', stderr);
			print_granted(stderr, PQgetvalue(issued, 0, 5), PQgetvalue(issued, 0, 6), asked);
		}
		else
		{
			fprintf(stderr, "for role ");
			print_safe(stderr, params[0], false);
			fprintf(stderr, " (see \"%s tokens\" for how long it lasts)", progname);
		}
		fprintf(stderr, "; present it with SET tfguard.token or PGOPTIONS:\n");
		printf("%s\n", PQgetvalue(res, 0, 1));
	}
	PQclear(issued);
	PQclear(res);
	return 0;
}

static int
cmd_revoke(PGconn *conn, const Invocation *inv)
{
	const char *params[1] = {inv->operand};

	PQclear(run(conn, "SELECT tfguard.revoke_token($1)", 1, params));
	if (json_output)
		print_json(conn, "SELECT $1::text AS token_id, true AS revoked", 1, params, true);
	else
	{
		printf("revoked token ");
		print_safe(stdout, inv->operand, false);
		putchar('\n');
	}
	return 0;
}

static int
cmd_tokens(PGconn *conn, const Invocation *inv)
{
	print_rows(conn,
			   "SELECT id, role, operations, coalesce(objects, 'any') AS objects,"
			   " coalesce(database, 'any') AS database, issued_by,"
			   " date_trunc('second', expires_at) AS expires_at, pinned_pid,"
			   " approves AS approval_of, reason FROM tfguard.tokens WHERE live ORDER BY issued_at",
			   0, NULL);
	return 0;
}

#define AUDIT_SQL \
	"SELECT id, date_trunc('second', logged_at) AS logged_at, database_name AS database," \
	" session_role AS role, operation, object_name AS object, decision, token_id, refers_to," \
	" statement FROM tfguard.audit_log" \
	" WHERE ($1::interval IS NULL OR logged_at > now() - $1::interval)" \
	" AND ($2::text IS NULL OR session_role = $2) AND ($3::text IS NULL OR decision = $3)" \
	" AND id > $4::bigint AND id <= $5::bigint ORDER BY id"

/* Wait for the audit writer's NOTIFY: no polling. */
static void
wait_for_audit_rows(PGconn *conn)
{
	for (;;)
	{
		int			sock = PQsocket(conn);
		fd_set		input;
		PGnotify   *notify;
		bool		got = false;

		if (sock < 0)
			fail(EXIT_NO_SERVER, "lost the connection: %s", PQerrorMessage(conn));
		FD_ZERO(&input);
		FD_SET(sock, &input);
		if (select(sock + 1, &input, NULL, NULL, NULL) < 0)
			fail(EXIT_REFUSED, "select() failed");
		if (!PQconsumeInput(conn))
			fail(EXIT_NO_SERVER, "%s", PQerrorMessage(conn));
		while ((notify = PQnotifies(conn)) != NULL)
		{
			got = true;
			PQfreemem(notify);
		}
		if (got)
			return;
	}
}

static int
cmd_audit(PGconn *conn, const Invocation *inv)
{
	char		since[32];
	const char *decision = option_value(inv, OPT_DECISION);
	bool		follow = option_value(inv, OPT_FOLLOW) != NULL;
	char		last[32] = "0";
	Table		table = {stdout, NULL, false};

	duration_arg(option_value(inv, OPT_SINCE), DEFAULT_SINCE_S, since, sizeof(since));
	/* the trail says blocked; a human may well say refused */
	if (decision && strcmp(decision, "refused") == 0)
		decision = "blocked";
	if (follow)
		PQclear(run(conn, "LISTEN tfguard_audit", 0, NULL));
	for (bool first = true;; first = false)
	{
		char		newest[32];
		PGresult   *res = run(conn, "SELECT coalesce(max(id), 0) FROM tfguard.audit_log", 0, NULL);
		const char *params[5] = {first ? since : NULL, option_value(inv, OPT_ROLE), decision,
		last, newest};

		snprintf(newest, sizeof(newest), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		if (json_output)
			print_json(conn, AUDIT_SQL, 5, params, follow);
		else
		{
			res = run(conn, AUDIT_SQL, 5, params);
			print_table(&table, res, follow);
			PQclear(res);
		}
		snprintf(last, sizeof(last), "%s", newest);
		fflush(stdout);
		if (!follow)
			break;
		wait_for_audit_rows(conn);
	}
	free(table.width);
	return 0;
}

/*
 * The writer comes round its loop at least once a second: it is stuck when
 * it has not for 3 seconds, or a record has waited longer than
 * tfguard.audit_timeout (guarded operations then fail closed).  A pid
 * alone says nothing: a stopped process keeps it.
 */
#define STATUS_SQL \
	"SELECT mode, home_database, writer, writer = 'running' AS writer_alive, writer_pid," \
	" writer_heartbeat_age_s, queue_depth, oldest_queued_age_s, audit_timeout, pending," \
	" live_tokens, live_approvals FROM (" \
	" SELECT current_setting('tfguard.mode') AS mode," \
	" current_setting('tfguard.database') AS home_database," \
	" CASE WHEN pg_catalog.pg_is_in_recovery() THEN 'standby'" \
	"      WHEN w.pid = 0 THEN 'not running'" \
	"      WHEN w.heartbeat_age_s > 3" \
	"           OR w.oldest_queued_age_s > c.timeout_s THEN 'stuck'" \
	"      ELSE 'running' END AS writer," \
	" w.pid AS writer_pid, w.heartbeat_age_s AS writer_heartbeat_age_s," \
	" w.queue_depth, w.oldest_queued_age_s," \
	" current_setting('tfguard.audit_timeout') AS audit_timeout," \
	" (SELECT count(*) FROM tfguard.pending) AS pending," \
	" (SELECT count(*) FROM tfguard.tokens WHERE live AND approves IS NULL) AS live_tokens," \
	" (SELECT count(*) FROM tfguard.tokens WHERE live AND approves IS NOT NULL) AS live_approvals" \
	" FROM (SELECT pid, queue_depth," \
	"   round(extract(epoch FROM clock_timestamp() - last_heartbeat)::numeric, 1) AS heartbeat_age_s," \
	"   round(extract(epoch FROM clock_timestamp() - oldest_queued)::numeric, 1) AS oldest_queued_age_s" \
	"   FROM tfguard.writer_status()) w," \
	" (SELECT extract(epoch FROM current_setting('tfguard.audit_timeout')::interval) AS timeout_s) c) s"

/* column numbers in STATUS_SQL */
#define STATUS_WRITER 2
#define STATUS_PID 4
#define STATUS_HEARTBEAT_AGE 5
#define STATUS_OLDEST_AGE 7
#define STATUS_AUDIT_TIMEOUT 8

/*
 * The guard's state; exits 1 when the audit writer is stuck or not
 * running (on a primary), saying so on standard error, so that a monitor
 * need not parse.
 */
static int
cmd_status(PGconn *conn, const Invocation *inv)
{
	PGresult   *res = run(conn, "SELECT s.*, json_build_array(row_to_json(s)) FROM ("
						  STATUS_SQL ") s", 0, NULL);
	const char *writer = PQgetvalue(res, 0, STATUS_WRITER);
	/* a standby runs no writer: it records nothing, the primary does */
	int			status = strcmp(writer, "running") == 0 ||
		strcmp(writer, "standby") == 0 ? 0 : EXIT_REFUSED;

	if (json_output)
		printf("%s\n", PQgetvalue(res, 0, PQnfields(res) - 1));
	else
		print_fields(stdout, res, 0, PQnfields(res) - 1);
	if (strcmp(writer, "stuck") == 0 && PQgetisnull(res, 0, STATUS_OLDEST_AGE))
		tell("the audit writer (pid %s) is stuck: no heartbeat for %s s; guarded operations "
			 "fail closed after tfguard.audit_timeout (%s). See the server log and what the "
			 "process is doing (stopped, waiting for a lock).",
			 PQgetvalue(res, 0, STATUS_PID), PQgetvalue(res, 0, STATUS_HEARTBEAT_AGE),
			 PQgetvalue(res, 0, STATUS_AUDIT_TIMEOUT));
	else if (strcmp(writer, "stuck") == 0)
		tell("the audit writer (pid %s) is stuck: no heartbeat for %s s, and the oldest "
			 "queued record has waited %s s; guarded operations fail closed after "
			 "tfguard.audit_timeout (%s). See the server log and what the process is doing "
			 "(stopped, waiting for a lock).",
			 PQgetvalue(res, 0, STATUS_PID), PQgetvalue(res, 0, STATUS_HEARTBEAT_AGE),
			 PQgetvalue(res, 0, STATUS_OLDEST_AGE), PQgetvalue(res, 0, STATUS_AUDIT_TIMEOUT));
	else if (strcmp(writer, "not running") == 0)
		tell("the audit writer is not running: every guarded operation is refused until "
			 "it is back. See the server log.");
	PQclear(res);
	return status;
}

#define WIDE_HELP "show whole texts (else cut at 60 columns, ending in ...)"
#define REASON_HELP "why; kept in the audit trail"
#define TTL_HELP "how long it lasts (default 15m; tfguard.max_ttl caps it)"

const Command commands[] = {
	{"pending", NULL, "refused attempts awaiting a decision, with their impact",
		"Refused attempts that await a human's decision, newest first: who asked, in\n"
		"which database, the operation and object, what it would destroy (impact) and\n"
		"the statement. Decide with \"tfguard approve AUDIT_ID\" or \"tfguard deny AUDIT_ID\".",
		{{OPT_WIDE, 0, WIDE_HELP}}, cmd_pending},
	{"show", "AUDIT_ID", "the whole story of one attempt",
		"Everything the audit trail says about one row: who made the attempt (role,\n"
		"database, client, when), the operation, object, impact and whole statement, and\n"
		"where it stands; the human's decision on the request (approved or denied, by\n"
		"whom, when, why, the ttl granted and until when, and whether the approval is\n"
		"live, used, revoked or expired); and the related rows: the request, the\n"
		"decision, each claim and use. Control characters show as escapes (\\x1b).",
		{{0}}, cmd_show},
	{"approve", "AUDIT_ID", "unlock a refused attempt for the session that made it",
		"Unlock a refused attempt's operation on its object for the session that made\n"
		"it, until the ttl runs out; the agent then runs its statement again. Without\n"
		"--yes, shows the attempt (as \"show\" does) and asks you to type the object's\n"
		"name. Prints the approval's id and the ttl the server granted.",
		{{OPT_TTL, 0, TTL_HELP}, {OPT_REASON, 0, REASON_HELP},
		{OPT_YES, 0, "approve without showing the attempt or asking for its name"}}, cmd_approve},
	{"deny", "AUDIT_ID", "close a request without unlocking anything",
		"Close a request without unlocking anything; this also ends an approval of it\n"
		"that is still live.",
		{{OPT_REASON, 0, REASON_HELP}}, cmd_deny},
	{"issue", NULL, "issue an unlock token for another role",
		"Issue an unlock token for another role: the first session of that role to\n"
		"present it may run the operations named, on the objects named, in the\n"
		"database named, until it expires. The token is printed alone on the last line\n"
		"of standard output (tfguard keeps only its hash); standard error gives its id\n"
		"and the ttl the server granted.",
		{{OPT_ROLE, OPTION_REQUIRED, "the role that will present the token"},
			{OPT_OP, OPTION_REQUIRED | OPTION_REPEATABLE,
			"an operation it unlocks: drop_database, drop_table, truncate, delete_all, ..."},
			{OPT_OBJECT, OPTION_REPEATABLE,
			"schema.table (a database for drop_database) it is limited to; default: any"},
			{OPT_DB, 0, "the database it works in; default: any"},
		{OPT_TTL, 0, TTL_HELP}, {OPT_REASON, 0, REASON_HELP}}, cmd_issue},
	{"revoke", "TOKEN_ID", "revoke a token or an approval",
		"Revoke a token or an approval by its id (\"tfguard tokens\" lists them): from\n"
		"then on it unlocks nothing.",
		{{0}}, cmd_revoke},
	{"tokens", NULL, "live tokens and approvals, never secrets",
		"Live tokens and approvals: id, role, operations, objects, database, who issued\n"
		"it, when it expires, the session it is pinned to, the request an approval is\n"
		"for, and the reason. Never a secret. One pinned to a session that ended is not\n"
		"live: nothing can use it again.",
		{{0}}, cmd_tokens},
	{"audit", NULL, "rows of the audit trail",
		"Rows of the audit trail, oldest first: every attempt at a guarded operation and\n"
		"every issue, presentation, approval, denial and revocation. --follow keeps\n"
		"printing new rows as they are committed (LISTEN tfguard_audit, no polling),\n"
		"with --json one object a line.",
		{{OPT_SINCE, 0, "rows from this long ago on (default 1h)"},
			{OPT_ROLE, 0, "only rows of this session role"},
			{OPT_DECISION, 0, "only rows with this decision: blocked (or refused), allowed, warned"},
			{OPT_FOLLOW, 0, "keep printing new rows until interrupted"},
		{OPT_WIDE, 0, WIDE_HELP}}, cmd_audit},
	{"status", NULL, "mode, writer (running or stuck), queue, pending, live unlocks",
		"The guard's mode and home database; the audit writer: running, stuck, not\n"
		"running, or standby (none runs in recovery: the primary records), with its pid\n"
		"and the age of its heartbeat (it beats at least once a second); the records\n"
		"queued for it and the age of the oldest; the pending requests; the live tokens\n"
		"and approvals (not those pinned to a session that ended). The writer is stuck\n"
		"when it has not come round for 3 s or a record has waited longer than\n"
		"tfguard.audit_timeout: guarded operations then fail closed. Exits 1, saying\n"
		"why, when the writer is stuck or not running on a primary.",
		{{0}}, cmd_status},
};
const int	ncommands = sizeof(commands) / sizeof(commands[0]);


/*-------------------------------------------------------------------------
 *
 * tfguard.c
 *	  tfguard: the command-line tool for the humans who decide.
 *
 * It speaks to the home database with libpq (-h -p -U -d, PG* variables,
 * service files, .pgpass) and does nothing the SQL functions do not:
 * every decision is made and recorded by the extension.  Output reads well
 * in a terminal; --json gives the same rows as a JSON array, built by the
 * server.  Exit status: 0 done, 1 the server refused or failed, 2 bad
 * usage, 3 no connection.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "libpq-fe.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_NO_SERVER 3

static const char *progname = "tfguard";
static bool json_output = false;

typedef struct Command
{
	const char *name;
	const char *usage;
	const char *summary;
	int			(*run) (PGconn *conn, int argc, char **argv);
} Command;

static void fail(int status, const char *fmt,...)
			__attribute__((format(printf, 2, 3), noreturn));

static void
fail(int status, const char *fmt,...)
{
	va_list		args;

	fprintf(stderr, "%s: ", progname);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
	exit(status);
}

/* Run a query with text parameters; exit 1 with the server's message on error. */
static PGresult *
run(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType status = PQresultStatus(res);

	if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
	{
		const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
		const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);

		fprintf(stderr, "%s: %s", progname, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?
				PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : PQerrorMessage(conn));
		fputc('\n', stderr);
		if (detail)
			fprintf(stderr, "DETAIL: %s\n", detail);
		if (hint)
			fprintf(stderr, "HINT: %s\n", hint);
		PQclear(res);
		PQfinish(conn);
		exit(EXIT_REFUSED);
	}
	return res;
}

/* Print rows as an aligned table, or the server-built JSON array. */
static void
print_rows(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res;

	if (json_output)
	{
		char	   *wrapped = malloc(strlen(sql) + 64);

		sprintf(wrapped, "SELECT coalesce(json_agg(r), '[]') FROM (%s) r", sql);
		res = run(conn, wrapped, nparams, params);
		printf("%s\n", PQgetvalue(res, 0, 0));
		free(wrapped);
	}
	else
	{
		int			ncols;
		int			nrows;
		int		   *width;

		res = run(conn, sql, nparams, params);
		ncols = PQnfields(res);
		nrows = PQntuples(res);
		width = calloc(ncols, sizeof(int));
		for (int c = 0; c < ncols; c++)
		{
			width[c] = strlen(PQfname(res, c));
			for (int r = 0; r < nrows; r++)
				if ((int) strlen(PQgetvalue(res, r, c)) > width[c])
					width[c] = strlen(PQgetvalue(res, r, c));
		}
		for (int c = 0; c < ncols; c++)
			printf("%s%-*s", c ? "  " : "", c == ncols - 1 ? 0 : width[c], PQfname(res, c));
		putchar('\n');
		for (int r = 0; r < nrows; r++)
		{
			for (int c = 0; c < ncols; c++)
				printf("%s%-*s", c ? "  " : "", c == ncols - 1 ? 0 : width[c],
					   PQgetvalue(res, r, c));
			putchar('\n');
		}
		if (nrows == 0)
			printf("(none)\n");
		free(width);
	}
	PQclear(res);
}

/* Parse an audit id argument; exit 2 unless it is a positive integer. */
static const char *
audit_id_arg(int argc, char **argv, const char *usage)
{
	const char *id;

	if (optind >= argc)
		fail(EXIT_USAGE, "missing audit id\nusage: %s %s", progname, usage);
	id = argv[optind++];
	for (const char *p = id; *p; p++)
		if (!isdigit((unsigned char) *p))
			fail(EXIT_USAGE, "\"%s\" is not an audit id (a positive integer)", id);
	if (optind < argc)
		fail(EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);
	return id;
}

/*
 * getopt_long returned '?': "--help" prints the usage (and what the
 * command does) and exits 0; anything else is bad usage, exit 2.
 */
static void
help_or_usage(char **argv, const char *usage, const char *description)
{
	if (strcmp(argv[optind - 1], "--help") == 0)
	{
		printf("usage: %s %s\n", progname, usage);
		if (description)
			printf("\n%s\n", description);
		exit(0);
	}
	fail(EXIT_USAGE, "usage: %s %s", progname, usage);
}

static int
no_options(int argc, char **argv, const char *usage)
{
	static struct option longopts[] = {{"help", no_argument, NULL, '?'}, {NULL, 0, NULL, 0}};
	int			c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
		help_or_usage(argv, usage, NULL);
	return optind;
}

/* ---------- subcommands ---------- */

#define PENDING_SQL \
	"SELECT audit_id, date_trunc('second', now() - logged_at) AS age, role, database_name AS database," \
	" operation, object_name AS object, left(statement, 60) AS statement FROM tfguard.pending"

static int
cmd_pending(PGconn *conn, int argc, char **argv)
{
	no_options(argc, argv, "pending");
	if (optind < argc)
		fail(EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);
	print_rows(conn, PENDING_SQL, 0, NULL);
	return 0;
}

#define SHOW_SQL \
	"SELECT a.id AS audit_id, a.logged_at, a.database_name AS database, a.session_role AS role," \
	" a.\"current_role\", a.client_addr, a.application_name, a.backend_pid, a.operation," \
	" a.object_name AS object, a.decision, a.impact, a.statement," \
	" CASE WHEN EXISTS (SELECT 1 FROM tfguard.pending p WHERE p.audit_id = a.id) THEN 'pending'" \
	"      WHEN EXISTS (SELECT 1 FROM tfguard.audit_log d WHERE d.refers_to = a.id AND d.operation = 'deny') THEN 'denied'" \
	"      WHEN EXISTS (SELECT 1 FROM tfguard.audit_log d WHERE d.refers_to = a.id AND d.operation = 'approve') THEN 'approved'" \
	"      WHEN a.decision = 'blocked' THEN 'closed (the session ended)' ELSE '' END AS status" \
	" FROM tfguard.audit_log a WHERE a.id = $1"

/* One row as "key: value" lines; exit 1 if there is none. */
static void
print_record(PGconn *conn, const char *id)
{
	const char *params[1] = {id};
	PGresult   *res;

	if (json_output)
	{
		res = run(conn, "SELECT row_to_json(r) FROM (" SHOW_SQL ") r", 1, params);
		if (PQntuples(res) == 0)
			fail(EXIT_REFUSED, "audit id %s does not exist", id);
		printf("%s\n", PQgetvalue(res, 0, 0));
	}
	else
	{
		res = run(conn, SHOW_SQL, 1, params);
		if (PQntuples(res) == 0)
			fail(EXIT_REFUSED, "audit id %s does not exist", id);
		for (int c = 0; c < PQnfields(res); c++)
			printf("%-17s %s\n", PQfname(res, c), PQgetvalue(res, 0, c));
	}
	PQclear(res);
}

static int
cmd_show(PGconn *conn, int argc, char **argv)
{
	no_options(argc, argv, "show AUDIT_ID");
	print_record(conn, audit_id_arg(argc, argv, "show AUDIT_ID"));
	return 0;
}

static int
cmd_approve(PGconn *conn, int argc, char **argv)
{
	static const char *usage = "approve AUDIT_ID [--ttl 10m] [--reason TEXT] [--yes]";
	static struct option longopts[] = {
		{"ttl", required_argument, NULL, 't'},
		{"reason", required_argument, NULL, 'r'},
		{"yes", no_argument, NULL, 'y'},
		{"help", no_argument, NULL, '?'},
		{NULL, 0, NULL, 0}
	};
	const char *ttl = "15 minutes";
	const char *reason = NULL;
	bool		yes = false;
	const char *id;
	int			c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		if (c == 't')
			ttl = optarg;
		else if (c == 'r')
			reason = optarg;
		else if (c == 'y')
			yes = true;
		else
			help_or_usage(argv, usage,
						  "Unlock a refused attempt's operation on its object for the session that\n"
						  "made it. Without --yes, shows the attempt and asks you to type the object's name.");
	}
	id = audit_id_arg(argc, argv, usage);

	if (!yes)
	{
		const char *params[1] = {id};
		PGresult   *res = run(conn, "SELECT object_name FROM tfguard.pending WHERE audit_id = $1", 1, params);
		char		typed[1024];

		if (PQntuples(res) == 0)
			fail(EXIT_REFUSED, "audit id %s is not pending (see \"%s show %s\")", id, progname, id);
		json_output = false;
		print_record(conn, id);
		printf("\nType the object's name (%s) to approve: ", PQgetvalue(res, 0, 0));
		fflush(stdout);
		if (fgets(typed, sizeof(typed), stdin) == NULL)
			typed[0] = '\0';
		typed[strcspn(typed, "\r\n")] = '\0';
		if (strcmp(typed, PQgetvalue(res, 0, 0)) != 0)
			fail(EXIT_REFUSED, "the name did not match: nothing was approved");
		PQclear(res);
	}
	{
		const char *params[3] = {id, ttl, reason};
		PGresult   *res = run(conn, "SELECT tfguard.approve($1::bigint, $2::interval, $3)", 3, params);

		printf("approved audit id %s (approval %s) for %s\n", id, PQgetvalue(res, 0, 0), ttl);
		PQclear(res);
	}
	return 0;
}

static int
cmd_deny(PGconn *conn, int argc, char **argv)
{
	static const char *usage = "deny AUDIT_ID [--reason TEXT]";
	static struct option longopts[] = {
		{"reason", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, '?'},
		{NULL, 0, NULL, 0}
	};
	const char *reason = NULL;
	const char *params[2];
	int			c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		if (c == 'r')
			reason = optarg;
		else
			help_or_usage(argv, usage, "Close a request without unlocking anything.");
	}
	params[0] = audit_id_arg(argc, argv, usage);
	params[1] = reason;
	PQclear(run(conn, "SELECT tfguard.deny($1::bigint, $2)", 2, params));
	printf("denied audit id %s\n", params[0]);
	return 0;
}

/* A text[] literal from the values given, each quoted. */
static char *
array_literal(char **values, int n)
{
	size_t		len = 3;
	char	   *out;

	for (int i = 0; i < n; i++)
		len += 2 * strlen(values[i]) + 4;
	out = malloc(len);
	strcpy(out, "{");
	for (int i = 0; i < n; i++)
	{
		char	   *p = out + strlen(out);

		if (i)
			*p++ = ',';
		*p++ = '"';
		for (const char *v = values[i]; *v; v++)
		{
			if (*v == '"' || *v == '\\')
				*p++ = '\\';
			*p++ = *v;
		}
		*p++ = '"';
		*p = '\0';
	}
	strcat(out, "}");
	return out;
}

static int
cmd_issue(PGconn *conn, int argc, char **argv)
{
	static const char *usage = "issue --role R --op OP [--op OP]... [--object X]... [--db D] [--ttl 15m] [--reason TEXT]";
	static struct option longopts[] = {
		{"role", required_argument, NULL, 'R'},
		{"op", required_argument, NULL, 'o'},
		{"object", required_argument, NULL, 'x'},
		{"db", required_argument, NULL, 'd'},
		{"ttl", required_argument, NULL, 't'},
		{"reason", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, '?'},
		{NULL, 0, NULL, 0}
	};
	const char *role = NULL;
	const char *db = NULL;
	const char *ttl = "15 minutes";
	const char *reason = NULL;
	char	   *ops[16];
	char	   *objects[16];
	int			nops = 0;
	int			nobjects = 0;
	int			c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'R':
				role = optarg;
				break;
			case 'o':
				if (nops == 16)
					fail(EXIT_USAGE, "too many --op");
				ops[nops++] = optarg;
				break;
			case 'x':
				if (nobjects == 16)
					fail(EXIT_USAGE, "too many --object");
				objects[nobjects++] = optarg;
				break;
			case 'd':
				db = optarg;
				break;
			case 't':
				ttl = optarg;
				break;
			case 'r':
				reason = optarg;
				break;
			default:
				help_or_usage(argv, usage,
							  "Issue an unlock token for another role. The token alone is printed on the\n"
							  "last line of standard output; tfguard keeps only its hash.");
		}
	}
	if (role == NULL || nops == 0)
		fail(EXIT_USAGE, "--role and at least one --op are required\nusage: %s %s", progname, usage);
	if (optind < argc)
		fail(EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);
	{
		const char *params[6] = {role, array_literal(ops, nops),
		nobjects ? array_literal(objects, nobjects) : NULL, ttl, db, reason};
		PGresult   *res = run(conn,
							  "SELECT tfguard.issue_token($1::name, $2::text[], $3::text[], $4::interval, $5::name, $6)",
							  6, params);

		fprintf(stderr, "token for role %s, valid for %s; present it with SET tfguard.token or PGOPTIONS:\n",
				role, ttl);
		printf("%s\n", PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	return 0;
}

static int
cmd_revoke(PGconn *conn, int argc, char **argv)
{
	const char *params[1];

	no_options(argc, argv, "revoke TOKEN_ID");
	if (optind != argc - 1)
		fail(EXIT_USAGE, "usage: %s revoke TOKEN_ID", progname);
	params[0] = argv[optind];
	PQclear(run(conn, "SELECT tfguard.revoke_token($1)", 1, params));
	printf("revoked token %s\n", params[0]);
	return 0;
}

static int
cmd_tokens(PGconn *conn, int argc, char **argv)
{
	no_options(argc, argv, "tokens");
	if (optind < argc)
		fail(EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);
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
	" left(statement, 60) AS statement FROM tfguard.audit_log" \
	" WHERE logged_at > now() - $1::interval AND ($2::text IS NULL OR session_role = $2)" \
	" AND ($3::text IS NULL OR decision = $3) AND id > $4::bigint AND id <= $5::bigint ORDER BY id"

static int
cmd_audit(PGconn *conn, int argc, char **argv)
{
	static const char *usage = "audit [--since 1h] [--role R] [--decision blocked|allowed|warned] [--follow]";
	static struct option longopts[] = {
		{"since", required_argument, NULL, 's'},
		{"role", required_argument, NULL, 'R'},
		{"decision", required_argument, NULL, 'D'},
		{"follow", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, '?'},
		{NULL, 0, NULL, 0}
	};
	const char *since = "1 hour";
	const char *role = NULL;
	const char *decision = NULL;
	bool		follow = false;
	char		last[32] = "0";
	int			c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		if (c == 's')
			since = optarg;
		else if (c == 'R')
			role = optarg;
		else if (c == 'D')
			decision = optarg;
		else if (c == 'f')
			follow = true;
		else
			help_or_usage(argv, usage,
						  "Recent rows of the audit trail; --follow keeps printing new ones as they are\n"
						  "committed (LISTEN tfguard_audit).");
	}
	if (optind < argc)
		fail(EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);

	if (follow)
		PQclear(run(conn, "LISTEN tfguard_audit", 0, NULL));
	for (;;)
	{
		char		newest[32];
		PGresult   *res = run(conn, "SELECT coalesce(max(id), 0) FROM tfguard.audit_log", 0, NULL);

		snprintf(newest, sizeof(newest), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		{
			const char *params[5] = {since, role, decision, last, newest};

			print_rows(conn, AUDIT_SQL, 5, params);
		}
		snprintf(last, sizeof(last), "%s", newest);
		fflush(stdout);
		if (!follow)
			return 0;

		/* wait for the writer's NOTIFY: no polling */
		for (;;)
		{
			int			sock = PQsocket(conn);
			fd_set		input;
			PGnotify   *notify;
			bool		got = false;

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
				break;
		}
		since = "100 years";
	}
}

static int
cmd_status(PGconn *conn, int argc, char **argv)
{
	no_options(argc, argv, "status");
	if (optind < argc)
		fail(EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);
	print_rows(conn,
			   "SELECT current_setting('tfguard.mode') AS mode,"
			   " current_setting('tfguard.database') AS home_database,"
			   " tfguard.writer_pid() > 0 AS writer_alive,"
			   " tfguard.queue_depth() AS queue_depth,"
			   " (SELECT count(*) FROM tfguard.pending) AS pending,"
			   " (SELECT count(*) FROM tfguard.tokens WHERE live AND approves IS NULL) AS live_tokens,"
			   " (SELECT count(*) FROM tfguard.tokens WHERE live AND approves IS NOT NULL) AS live_approvals",
			   0, NULL);
	return 0;
}

static const Command commands[] = {
	{"pending", "pending", "refused attempts awaiting a decision", cmd_pending},
	{"show", "show AUDIT_ID", "everything about one attempt, with its impact", cmd_show},
	{"approve", "approve AUDIT_ID [--ttl 10m] [--reason TEXT] [--yes]", "unlock it for the session that made it", cmd_approve},
	{"deny", "deny AUDIT_ID [--reason TEXT]", "close a request without unlocking", cmd_deny},
	{"issue", "issue --role R --op OP [--object X]... [--db D] [--ttl 15m] [--reason TEXT]", "issue an unlock token", cmd_issue},
	{"revoke", "revoke TOKEN_ID", "revoke a token or an approval", cmd_revoke},
	{"tokens", "tokens", "live tokens and approvals (never secrets)", cmd_tokens},
	{"audit", "audit [--since 1h] [--role R] [--decision D] [--follow]", "recent rows of the trail", cmd_audit},
	{"status", "status", "mode, writer, queue, pending, live unlocks", cmd_status},
};

static void
help(void)
{
	printf("%s: decide on what tfguard refused.\n\n"
		   "usage: %s [-h HOST] [-p PORT] [-U USER] [-d DBNAME] [--json] COMMAND [ARGS]\n\n"
		   "Connect to the home database (tfguard.database) as a member of tfguard_admin;\n"
		   "libpq's PG* variables, service files and .pgpass work as usual.\n\ncommands:\n",
		   progname, progname);
	for (int i = 0; i < (int) (sizeof(commands) / sizeof(commands[0])); i++)
		printf("  %-60s %s\n", commands[i].usage, commands[i].summary);
	printf("\n\"%s COMMAND --help\" describes one command. Exit status: 0 done, 1 refused or\nfailed, 2 bad usage, 3 no connection.\n", progname);
}

int
main(int argc, char **argv)
{
	static struct option longopts[] = {
		{"host", required_argument, NULL, 'h'},
		{"port", required_argument, NULL, 'p'},
		{"username", required_argument, NULL, 'U'},
		{"dbname", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, '?'},
		{NULL, 0, NULL, 0}
	};
	const char *keywords[6] = {"host", "port", "user", "dbname", "application_name", NULL};
	const char *values[6] = {NULL, NULL, NULL, NULL, "tfguard", NULL};
	const Command *command = NULL;
	PGconn	   *conn;
	int			c;

	/* options before the command only: the command parses its own */
	while ((c = getopt_long(argc, argv, "+h:p:U:d:", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'h':
				values[0] = optarg;
				break;
			case 'p':
				values[1] = optarg;
				break;
			case 'U':
				values[2] = optarg;
				break;
			case 'd':
				values[3] = optarg;
				break;
			case 'j':
				json_output = true;
				break;
			default:
				if (strcmp(argv[optind - 1], "--help") == 0)
				{
					help();
					return 0;
				}
				fprintf(stderr, "Try \"%s --help\".\n", progname);
				return EXIT_USAGE;
		}
	}
	if (optind >= argc)
	{
		help();
		return EXIT_USAGE;
	}
	for (int i = 0; i < (int) (sizeof(commands) / sizeof(commands[0])); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			command = &commands[i];
	if (command == NULL)
		fail(EXIT_USAGE, "unknown command \"%s\"; try \"%s --help\"", argv[optind], progname);

	/* the home database, unless told otherwise */
	if (values[3] == NULL && getenv("PGDATABASE") == NULL)
		values[3] = "postgres";

	/* a command's --help needs no server */
	for (int i = optind + 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0)
		{
			argc -= optind;
			argv += optind;
			optind = 0;
			return command->run(NULL, argc, argv);
		}

	conn = PQconnectdbParams(keywords, values, 0);
	if (PQstatus(conn) != CONNECTION_OK)
		fail(EXIT_NO_SERVER, "could not connect: %s", PQerrorMessage(conn));

	argc -= optind;
	argv += optind;
	optind = 0;					/* GNU getopt: start afresh, permuting */
	c = command->run(conn, argc, argv);
	PQfinish(conn);
	return c;
}

/*-------------------------------------------------------------------------
 *
 * tfguard.c
 *	  tfguard: the command-line tool for the humans who decide.
 *
 * It speaks to the home database with libpq (-h -p -U -d, PG* variables,
 * service files, .pgpass) and does nothing the SQL functions do not:
 * every decision is made and recorded by the extension.  Output reads well
 * in a terminal, with every control character in the server's data shown
 * as an escape (a statement cannot rewrite the screen); --json gives the
 * same rows as JSON built by the server.  Options may stand anywhere on the
 * line, and the whole line is checked before connecting.  Exit status:
 * 0 done, 1 the server refused or failed, 2 bad usage, 3 no connection.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
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

#ifndef TFGUARD_VERSION
#define TFGUARD_VERSION "(unknown version)"
#endif

/* statements and impacts are cut to this many columns unless --wide */
#define CUT_WIDTH 60
#define DEFAULT_TTL_S (15 * 60)
#define DEFAULT_SINCE_S 3600

static const char *progname = "tfguard";
static bool json_output = false;
static bool wide_output = false;
static int	client_encoding = -1;	/* the connection's, once connected */
static bool client_utf8 = true; /* its text is UTF-8 (or unchecked bytes) */
static const char *ellipsis = "...";	/* "…" where the client speaks UTF-8 */

/* ---------- options and commands ---------- */

typedef enum OptionId
{
	OPT_HOST,
	OPT_PORT,
	OPT_USER,
	OPT_DBNAME,
	OPT_JSON,
	OPT_HELP,
	OPT_VERSION,
	OPT_TTL,
	OPT_REASON,
	OPT_YES,
	OPT_ROLE,
	OPT_OP,
	OPT_OBJECT,
	OPT_DB,
	OPT_SINCE,
	OPT_DECISION,
	OPT_FOLLOW,
	OPT_WIDE,
	NUM_OPTIONS
} OptionId;

/* the options before this one are accepted by every command */
#define FIRST_COMMAND_OPTION OPT_TTL

typedef struct Option
{
	const char *name;
	char		letter;			/* its one-letter form, or 0 */
	const char *arg;			/* the value's name in usage; NULL: a flag */
	const char *help;			/* for the global options */
} Option;

static const Option options[NUM_OPTIONS] = {
	[OPT_HOST] = {"host", 'h', "HOST", "database server host or socket directory"},
	[OPT_PORT] = {"port", 'p', "PORT", "database server port"},
	[OPT_USER] = {"username", 'U', "USER", "connect as USER, a member of tfguard_admin"},
	[OPT_DBNAME] = {"dbname", 'd', "DBNAME", "the home database (tfguard.database; default postgres)"},
	[OPT_JSON] = {"json", 0, NULL, "print JSON built by the server instead of text"},
	[OPT_HELP] = {"help", '?', NULL, "show this help (or a command's) and exit"},
	[OPT_VERSION] = {"version", 'V', NULL, "show the version and exit"},
	[OPT_TTL] = {"ttl", 0, "TTL", NULL},
	[OPT_REASON] = {"reason", 0, "TEXT", NULL},
	[OPT_YES] = {"yes", 0, NULL, NULL},
	[OPT_ROLE] = {"role", 0, "ROLE", NULL},
	[OPT_OP] = {"op", 0, "OP", NULL},
	[OPT_OBJECT] = {"object", 0, "OBJECT", NULL},
	[OPT_DB] = {"db", 0, "DATABASE", NULL},
	[OPT_SINCE] = {"since", 0, "DURATION", NULL},
	[OPT_DECISION] = {"decision", 0, "DECISION", NULL},
	[OPT_FOLLOW] = {"follow", 0, NULL, NULL},
	[OPT_WIDE] = {"wide", 0, NULL, NULL},
};

#define OPTION_REQUIRED 1
#define OPTION_REPEATABLE 2

/* One of a command's own options, with what it means for that command. */
typedef struct CommandOption
{
	OptionId	id;
	int			flags;
	const char *help;			/* NULL ends the list */
} CommandOption;

struct Invocation;

typedef struct Command
{
	const char *name;
	const char *operand;		/* its one argument (AUDIT_ID...), or NULL */
	const char *summary;
	const char *description;
	CommandOption options[8];
	int			(*run) (PGconn *conn, const struct Invocation *inv);
} Command;

/* A command line, parsed and checked. */
typedef struct Invocation
{
	const Command *command;
	const char *operand;
	int			ngiven;
	OptionId   *given;			/* the options given, in order */
	const char **values;		/* and their values (NULL for flags) */
} Invocation;

static void say(const char *fmt, va_list args) __attribute__((format(printf, 1, 0)));
static void fail(int status, const char *fmt,...)
			__attribute__((format(printf, 2, 3), noreturn));
static void usage_error(const Command *command, const char *fmt,...)
			__attribute__((format(printf, 2, 3), noreturn));
static void print_synopsis(FILE *out, const Command *command);

/* ---------- text from the server, shown harmlessly ---------- */

/* A growing string. */
typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		size;
} Buf;

static void
buf_append(Buf *buf, const char *bytes, size_t n)
{
	if (buf->len + n + 1 > buf->size)
	{
		buf->size = 2 * (buf->len + n + 1);
		buf->data = realloc(buf->data, buf->size);
		if (buf->data == NULL)
			fail(EXIT_REFUSED, "out of memory");
	}
	memcpy(buf->data + buf->len, bytes, n);
	buf->len += n;
	buf->data[buf->len] = '\0';
}

static void
buf_puts(Buf *buf, const char *text)
{
	buf_append(buf, text, strlen(text));
}

/*
 * The length in bytes of the UTF-8 character at s if a terminal may be
 * given it as it is; 0 if it is not valid UTF-8, or a C1 control, or one
 * of the invisible marks that reverse the direction of what follows.
 */
static int
utf8_printable_length(const unsigned char *s)
{
	unsigned int cp;
	int			len;

	if (s[0] < 0xc2)
		return 0;
	else if (s[0] < 0xe0)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] < 0xf0)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] < 0xf5)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (int i = 1; i < len; i++)
	{
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		(cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cp < 0xa0 || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
		(cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return len;
}

/*
 * The length in bytes of the character at s if it is printable, with its
 * width in columns; 0 if its first byte must be shown as an escape.
 */
static int
printable_length(const char *s, int *width)
{
	unsigned char c = (unsigned char) *s;
	int			len;

	*width = 1;
	if (c < 0x20 || c == 0x7f)
		return 0;
	if (c < 0x80)
		return 1;
	if (client_utf8)
		len = utf8_printable_length((const unsigned char *) s);
	else
	{
		/* in a single-byte encoding, 0x80 to 0x9f are the C1 controls */
		len = PQmblen(s, client_encoding);
		if (len == 1 && c < 0xa0)
			return 0;
		for (int i = 1; i < len; i++)
			if (s[i] == '\0')
				return 0;
	}
	if (len > 0 && client_encoding >= 0)
		*width = PQdsplen(s, client_encoding) >= 0 ? PQdsplen(s, client_encoding) : 1;
	return len;
}

/*
 * Append text to buf as it can be shown in a terminal without harm: ESC,
 * every other C0 and C1 control, DEL, bytes that are not characters and
 * direction overrides become visible escapes (\x1b; \n for a newline
 * unless keep_newlines), as in the server log line, so that no text can
 * move the cursor, hide itself or rewrite what is on the screen.  Stops
 * before going over max_width columns (0: no limit).  Returns the columns
 * used; *complete says whether all of the text fitted.
 */
static int
render_upto(Buf *buf, const char *text, int max_width, bool keep_newlines,
			bool *complete)
{
	int			used = 0;

	*complete = true;
	for (const char *p = text; *p;)
	{
		char		escape[8];
		int			width;
		int			len = printable_length(p, &width);
		const char *out = p;

		if (len == 0)
		{
			if (*p == '\n')
				strcpy(escape, keep_newlines ? "\n" : "\\n");
			else
				snprintf(escape, sizeof(escape), "\\x%02x", (unsigned char) *p);
			out = escape;
			len = 1;
			width = *p == '\n' && keep_newlines ? 0 : (int) strlen(escape);
		}
		if (max_width > 0 && used + width > max_width)
		{
			*complete = false;
			break;
		}
		buf_append(buf, out, out == p ? (size_t) len : strlen(escape));
		used += width;
		p += len;
	}
	return used;
}

/* render_upto(), ending a text that did not fit with a visible ellipsis. */
static int
render(Buf *buf, const char *text, int max_width, bool keep_newlines)
{
	size_t		start = buf->len;
	int			ellipsis_width = strcmp(ellipsis, "...") == 0 ? 3 : 1;
	bool		complete;
	int			width = render_upto(buf, text, max_width, keep_newlines, &complete);

	if (complete)
		return width;
	buf->len = start;
	width = render_upto(buf, text, max_width - ellipsis_width, keep_newlines, &complete);
	buf_puts(buf, ellipsis);
	return width + ellipsis_width;
}

/* Print text from the server to out, harmlessly. */
static void
print_safe(FILE *out, const char *text, bool keep_newlines)
{
	Buf			buf = {0};

	render(&buf, text ? text : "", 0, keep_newlines);
	if (buf.data)
		fputs(buf.data, out);
	free(buf.data);
}

/* ---------- failing ---------- */

/* "tfguard: " and a message in our own words (newlines kept) on stderr. */
static void
say(const char *fmt, va_list args)
{
	char		message[2048];

	vsnprintf(message, sizeof(message), fmt, args);
	fprintf(stderr, "%s: ", progname);
	print_safe(stderr, message, true);
	fputc('\n', stderr);
}

/* Say what went wrong and exit. */
static void
fail(int status, const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	say(fmt, args);
	va_end(args);
	exit(status);
}

/* Bad usage: say why, show the usage, exit 2. */
static void
usage_error(const Command *command, const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	say(fmt, args);
	va_end(args);
	if (command)
	{
		fprintf(stderr, "usage: ");
		print_synopsis(stderr, command);
		fprintf(stderr, "Try \"%s %s --help\".\n", progname, command->name);
	}
	else
		fprintf(stderr, "Try \"%s --help\".\n", progname);
	exit(EXIT_USAGE);
}

/* An error or notice from the server: its message, DETAIL and HINT. */
static void
print_server_message(const PGresult *res)
{
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);

	fprintf(stderr, "%s: ", progname);
	if (severity && strcmp(severity, "ERROR") != 0)
		fprintf(stderr, "%s: ", severity);
	if (primary)
		print_safe(stderr, primary, false);
	else
		print_safe(stderr, PQresultErrorMessage(res), true);
	fputc('\n', stderr);
	if (detail)
	{
		fputs("DETAIL: ", stderr);
		print_safe(stderr, detail, false);
		fputc('\n', stderr);
	}
	if (hint)
	{
		fputs("HINT: ", stderr);
		print_safe(stderr, hint, false);
		fputc('\n', stderr);
	}
}

static void
notice_receiver(void *arg, const PGresult *res)
{
	print_server_message(res);
}

/* The first value of a query's answer, or NULL; for diagnostics only. */
static char *
probe(PGconn *conn, const char *sql)
{
	PGresult   *res = PQexec(conn, sql);
	char	   *value = NULL;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		!PQgetisnull(res, 0, 0))
		value = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return value;
}

/*
 * The errors a human meets first say what to do: connected to a database
 * where the extension is not, or as a role outside tfguard_admin.
 */
static void
explain_error(PGconn *conn, const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	char	   *answer;

	if (state == NULL || primary == NULL || strstr(primary, "tfguard") == NULL)
		return;
	if (strcmp(state, "42P01") == 0 || strcmp(state, "3F000") == 0 ||
		strcmp(state, "42883") == 0)
	{
		answer = probe(conn, "SELECT EXISTS (SELECT FROM pg_catalog.pg_extension"
					   " WHERE extname = 'tfguard')");
		if (answer && strcmp(answer, "f") == 0)
		{
			char	   *home = probe(conn, "SELECT current_setting('tfguard.database', true)");

			fprintf(stderr, "HINT: tfguard's extension is not in database \"");
			print_safe(stderr, PQdb(conn), false);
			fprintf(stderr, "\"; connect to the home database (tfguard.database, ");
			if (home)
			{
				fputs("here \"", stderr);
				print_safe(stderr, home, false);
				fputs("\") with -d ", stderr);
				print_safe(stderr, home, false);
			}
			else
				fputs("default postgres) with -d", stderr);
			fputs(".\n", stderr);
			free(home);
		}
		free(answer);
	}
	else if (strcmp(state, "42501") == 0 && strstr(primary, "permission denied") != NULL)
	{
		answer = probe(conn, "SELECT pg_catalog.pg_has_role('tfguard_admin', 'MEMBER')");
		if (answer == NULL || strcmp(answer, "f") == 0)
		{
			fprintf(stderr, "HINT: role \"");
			print_safe(stderr, PQuser(conn), false);
			fprintf(stderr, "\" needs to be a member of tfguard_admin (GRANT tfguard_admin TO ...).\n");
		}
		free(answer);
	}
}

/* Run a query with text parameters; exit 1 with the server's message on error. */
static PGresult *
run(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType status = PQresultStatus(res);

	if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
	{
		if (PQstatus(conn) != CONNECTION_OK)
			fail(EXIT_NO_SERVER, "lost the connection: %s", PQerrorMessage(conn));
		print_server_message(res);
		explain_error(conn, res);
		PQclear(res);
		PQfinish(conn);
		exit(EXIT_REFUSED);
	}
	return res;
}

/* ---------- output ---------- */

/* An aligned table; across the batches of --follow, its header is printed once. */
typedef struct Table
{
	FILE	   *out;
	int		   *width;
	bool		header_printed;
} Table;

static bool
is_cut_column(const char *name)
{
	return !wide_output && (strcmp(name, "statement") == 0 || strcmp(name, "impact") == 0);
}

/* Print a result's rows as a table; "(none)" for no rows, unless follow. */
static void
print_table(Table *table, const PGresult *res, bool follow)
{
	int			ncols = PQnfields(res);
	int			nrows = PQntuples(res);
	Buf		   *cells = calloc((size_t) (nrows + 1) * ncols, sizeof(Buf));
	int		   *widths = calloc((size_t) (nrows + 1) * ncols, sizeof(int));

	if (table->width == NULL)
		table->width = calloc(ncols, sizeof(int));
	if (cells == NULL || widths == NULL || table->width == NULL)
		fail(EXIT_REFUSED, "out of memory");
	for (int r = 0; r <= nrows; r++)	/* row 0: the header */
		for (int c = 0; c < ncols; c++)
		{
			const char *name = PQfname(res, c);
			int			i = r * ncols + c;

			widths[i] = render(&cells[i], r ? PQgetvalue(res, r - 1, c) : name,
							   r && is_cut_column(name) ? CUT_WIDTH : 0, false);
			if (widths[i] > table->width[c])
				table->width[c] = widths[i];
		}
	for (int r = table->header_printed ? 1 : 0; r <= nrows; r++)
	{
		for (int c = 0; c < ncols; c++)
		{
			int			i = r * ncols + c;

			fprintf(table->out, "%s%s", c ? "  " : "", cells[i].data ? cells[i].data : "");
			for (int pad = widths[i]; c < ncols - 1 && pad < table->width[c]; pad++)
				fputc(' ', table->out);
		}
		fputc('\n', table->out);
	}
	table->header_printed = true;
	if (nrows == 0 && !follow)
		fprintf(table->out, "(none)\n");
	for (int i = 0; i < (nrows + 1) * ncols; i++)
		free(cells[i].data);
	free(cells);
	free(widths);
}

/*
 * Print a query's rows as JSON built by the server: one array, or with
 * one_per_line an object a line (--follow, single records).  Returns the
 * number of rows.
 */
static int
print_json(PGconn *conn, const char *sql, int nparams, const char *const *params,
		   bool one_per_line)
{
	Buf			wrapped = {0};
	PGresult   *res;
	int			nrows;

	buf_puts(&wrapped, one_per_line ? "SELECT row_to_json(r) FROM (" :
			 "SELECT coalesce(json_agg(r), '[]') FROM (");
	buf_puts(&wrapped, sql);
	buf_puts(&wrapped, ") r");
	res = run(conn, wrapped.data, nparams, params);
	nrows = PQntuples(res);
	for (int r = 0; r < nrows; r++)
		printf("%s\n", PQgetvalue(res, r, 0));
	PQclear(res);
	free(wrapped.data);
	return nrows;
}

/* Print a query's rows: a table, or a JSON array. */
static void
print_rows(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	Table		table = {stdout, NULL, false};
	PGresult   *res;

	if (json_output)
	{
		print_json(conn, sql, nparams, params, false);
		return;
	}
	res = run(conn, sql, nparams, params);
	print_table(&table, res, false);
	free(table.width);
	PQclear(res);
}

/* ---------- durations: TTL and --since ---------- */

/*
 * A duration as the options take it: one or more NUMBER UNIT pairs, as in
 * 90s, 10m, 1h30m or "2 hours"; the units are s, m, h, d, w and y, also
 * spelled sec(s), second(s), min(s), minute(s), hour(s), day(s), week(s),
 * year(s) (365 days).
 * Returns the seconds, or -1 if it is not one.
 */
static long long
parse_duration(const char *text)
{
	static const struct
	{
		const char *name;
		long long	seconds;
	}			units[] = {
		{"s", 1}, {"sec", 1}, {"secs", 1}, {"second", 1}, {"seconds", 1},
		{"m", 60}, {"min", 60}, {"mins", 60}, {"minute", 60}, {"minutes", 60},
		{"h", 3600}, {"hour", 3600}, {"hours", 3600},
		{"d", 86400}, {"day", 86400}, {"days", 86400},
		{"w", 604800}, {"week", 604800}, {"weeks", 604800},
		{"y", 31536000}, {"year", 31536000}, {"years", 31536000},
	};
	long long	total = 0;
	const char *p = text;

	while (*p)
	{
		long long	number = 0;
		const char *unit;
		size_t		len;
		int			u;

		while (*p == ' ')
			p++;
		if (!isdigit((unsigned char) *p))
			return -1;
		for (; isdigit((unsigned char) *p); p++)
			if ((number = number * 10 + (*p - '0')) > 1000000000)
				return -1;
		while (*p == ' ')
			p++;
		for (unit = p; isalpha((unsigned char) *p); p++)
			;
		len = p - unit;
		for (u = 0; u < (int) (sizeof(units) / sizeof(units[0])); u++)
			if (strlen(units[u].name) == len && strncmp(units[u].name, unit, len) == 0)
				break;
		if (u == (int) (sizeof(units) / sizeof(units[0])))
			return -1;
		if ((total += number * units[u].seconds) > 100000000000LL)
			return -1;
		while (*p == ' ')
			p++;
	}
	return total > 0 ? total : -1;
}

/* Seconds as the options write them: 1h30m, 15m, 45s. */
static void
format_duration(long long seconds, char *out, size_t size)
{
	static const struct
	{
		char		unit;
		long long	seconds;
	}			parts[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
	size_t		len = 0;
	bool		zero = seconds == 0;

	out[0] = '\0';
	for (int i = 0; i < 4; i++)
		if (seconds >= parts[i].seconds || (zero && i == 3))
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

#define DURATION_HELP \
	"Durations (TTL, --since) are a number and a unit, or several: 90s, 10m, 1h30m,\n" \
	"2d; the units are s, m, h, d, w, y, also spelled out (\"2 hours\").\n"

/* ---------- the options given ---------- */

static const char *
option_value(const Invocation *inv, OptionId id)
{
	const char *value = NULL;

	for (int i = 0; i < inv->ngiven; i++)
		if (inv->given[i] == id)
			value = inv->values[i] ? inv->values[i] : "";
	return value;
}

/* Every value given for a repeatable option, in order; returns how many. */
static int
option_values(const Invocation *inv, OptionId id, const char **out)
{
	int			n = 0;

	for (int i = 0; i < inv->ngiven; i++)
		if (inv->given[i] == id)
			out[n++] = inv->values[i];
	return n;
}

static const CommandOption *
command_option(const Command *command, OptionId id)
{
	for (const CommandOption *o = command->options; o->help; o++)
		if (o->id == id)
			return o;
	return NULL;
}

/* "approve AUDIT_ID [--ttl TTL] [--reason TEXT] [--yes]" */
static void
print_synopsis(FILE *out, const Command *command)
{
	fprintf(out, "%s %s", progname, command->name);
	if (command->operand)
		fprintf(out, " %s", command->operand);
	for (const CommandOption *o = command->options; o->help; o++)
	{
		const Option *option = &options[o->id];
		bool		optional = !(o->flags & OPTION_REQUIRED);

		fprintf(out, " %s--%s%s%s%s%s", optional ? "[" : "", option->name,
				option->arg ? " " : "", option->arg ? option->arg : "",
				optional ? "]" : "", o->flags & OPTION_REPEATABLE ? "..." : "");
	}
	fputc('\n', out);
}

/* ---------- commands ---------- */

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

#define SHOW_SQL \
	"SELECT a.id AS audit_id, a.logged_at, a.database_name AS database, a.session_role AS role," \
	" a.\"current_role\", a.client_addr, a.application_name, a.backend_pid, a.operation," \
	" a.object_name AS object, a.decision, a.impact, a.statement, a.detail, a.token_id," \
	" a.refers_to," \
	" CASE WHEN a.decision <> 'blocked' OR a.refers_to IS NOT NULL" \
	"           OR a.operation IN " NOT_REQUESTS " THEN ''" \
	"      WHEN EXISTS (SELECT FROM tfguard.pending p WHERE p.audit_id = a.id) THEN 'pending'" \
	"      WHEN EXISTS (SELECT FROM tfguard.audit_log d WHERE d.refers_to = a.id" \
	"                   AND d.operation = 'deny') THEN 'denied'" \
	"      WHEN EXISTS (SELECT FROM tfguard.audit_log d JOIN tfguard.tokens t ON t.id = d.token_id" \
	"                   WHERE d.refers_to = a.id AND d.operation = 'approve' AND t.live)" \
	"           THEN 'approved (live)'" \
	"      WHEN EXISTS (SELECT FROM tfguard.audit_log d WHERE d.refers_to = a.id" \
	"                   AND d.operation = 'approve') THEN 'approved (ended)'" \
	"      ELSE 'closed without a decision' END AS status" \
	" FROM tfguard.audit_log a WHERE a.id = $1"

/*
 * The rest of the story: the request a row refers to, and every row that
 * refers to the same request (approval, denial, each use), with how long
 * an approval lasts.
 */
#define RELATED_SQL \
	"SELECT r.id AS audit_id, date_trunc('second', r.logged_at) AS logged_at," \
	" r.session_role AS role, r.operation, r.object_name AS object, r.decision, r.token_id," \
	" date_trunc('second', t.expires_at) AS expires_at, t.live, r.detail" \
	" FROM tfguard.audit_log a JOIN tfguard.audit_log r" \
	"   ON (r.id = coalesce(a.refers_to, a.id) OR r.refers_to = coalesce(a.refers_to, a.id))" \
	"  AND r.id <> a.id" \
	" LEFT JOIN tfguard.tokens t ON t.id = r.token_id AND r.operation = 'approve'" \
	" WHERE a.id = $1 ORDER BY r.id"

/* Print the whole story of one row of the trail to out; false if there is none. */
static bool
print_story(PGconn *conn, FILE *out, const char *id)
{
	const char *params[1] = {id};
	Table		table = {out, NULL, false};
	PGresult   *res;

	if (json_output && out == stdout)
		return print_json(conn, "SELECT s.*, (SELECT coalesce(json_agg(h), '[]') FROM ("
						  RELATED_SQL ") h) AS related FROM (" SHOW_SQL ") s",
						  1, params, true) > 0;

	res = run(conn, SHOW_SQL, 1, params);
	if (PQntuples(res) == 0)
		return false;
	for (int c = 0; c < PQnfields(res); c++)
	{
		fprintf(out, "%-17s ", PQfname(res, c));
		print_safe(out, PQgetvalue(res, 0, c), false);
		fputc('\n', out);
	}
	PQclear(res);

	res = run(conn, RELATED_SQL, 1, params);
	fprintf(out, "\nrelated rows of the trail:%s\n", PQntuples(res) ? "" : " none yet");
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

static int
cmd_status(PGconn *conn, const Invocation *inv)
{
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

#define WIDE_HELP "show whole texts (else cut at 60 columns, ending in ...)"
#define REASON_HELP "why; kept in the audit trail"
#define TTL_HELP "how long it lasts (default 15m; tfguard.max_ttl caps it)"

static const Command commands[] = {
	{"pending", NULL, "refused attempts awaiting a decision, with their impact",
		"Refused attempts that await a human's decision, newest first: who asked, in\n"
		"which database, the operation and object, what it would destroy (impact) and\n"
		"the statement. Decide with \"tfguard approve AUDIT_ID\" or \"tfguard deny AUDIT_ID\".",
		{{OPT_WIDE, 0, WIDE_HELP}}, cmd_pending},
	{"show", "AUDIT_ID", "the whole story of one attempt",
		"Everything the audit trail says about one row: who made the attempt, from where\n"
		"and when, the operation, object, impact and whole statement, its status, and\n"
		"the related rows: the request, the approval or denial (who, when, why, until\n"
		"when) and each use of the approval. Control characters show as escapes (\\x1b).",
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
		"for, and the reason. Never a secret.",
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
	{"status", NULL, "mode, writer, queue, pending, live unlocks",
		"The guard's mode and home database, whether the audit writer runs, the records\n"
		"queued for it, the pending requests, and the live tokens and approvals.",
		{{0}}, cmd_status},
};
static const int ncommands = sizeof(commands) / sizeof(commands[0]);

/* ---------- the command line ---------- */

static void
print_option_help(const Option *option, const char *help)
{
	char		left[64];

	snprintf(left, sizeof(left), "%c%c%s--%s%s%s", option->letter ? '-' : ' ',
			 option->letter ? option->letter : ' ', option->letter ? ", " : "  ",
			 option->name, option->arg ? "=" : "", option->arg ? option->arg : "");
	printf("  %-24s %s\n", left, help);
}

static void
print_help(const Command *command)
{
	if (command)
	{
		printf("usage: ");
		print_synopsis(stdout, command);
		printf("\n%s\n", command->description);
		printf("\noptions:\n");
		for (const CommandOption *o = command->options; o->help; o++)
			print_option_help(&options[o->id], o->help);
		print_option_help(&options[OPT_JSON], options[OPT_JSON].help);
		print_option_help(&options[OPT_HELP], "show this help and exit");
		if (command_option(command, OPT_TTL) || command_option(command, OPT_SINCE))
			printf("\n" DURATION_HELP);
		printf("\nConnection options (-h, -p, -U, -d): see \"%s --help\".\n", progname);
		return;
	}
	printf("%s: decide on what tfguard refused.\n\n"
		   "usage: %s [OPTION]... COMMAND [ARGUMENT]... [OPTION]...\n\ncommands:\n",
		   progname, progname);
	for (int i = 0; i < ncommands; i++)
	{
		printf("  ");
		print_synopsis(stdout, &commands[i]);
		printf("      %s\n", commands[i].summary);
	}
	printf("\noptions, anywhere on the line:\n");
	for (int i = 0; i < FIRST_COMMAND_OPTION; i++)
		print_option_help(&options[i], options[i].help);
	printf("\nConnect to the home database (tfguard.database) as a member of tfguard_admin;\n"
		   "libpq's PG* variables, service files and .pgpass work as usual.\n"
		   "\"%s COMMAND --help\" describes a command and its options.\n\n" DURATION_HELP
		   "\nExit status: 0 done, 1 refused or failed, 2 bad usage, 3 no connection.\n",
		   progname);
}

static const Command *
find_command(const char *name)
{
	for (int i = 0; i < ncommands; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/* The option an argument names ("--ttl", "--ttl=5m", "-p5432"), or -1. */
static int
find_option(const char *arg, const char **inline_value)
{
	*inline_value = NULL;
	if (arg[1] == '-')
	{
		const char *name = arg + 2;
		const char *equals = strchr(name, '=');
		size_t		len = equals ? (size_t) (equals - name) : strlen(name);

		for (int i = 0; i < NUM_OPTIONS; i++)
			if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
			{
				*inline_value = equals ? equals + 1 : NULL;
				return i;
			}
		return -1;
	}
	for (int i = 0; i < NUM_OPTIONS; i++)
		if (options[i].letter && options[i].letter == arg[1])
		{
			*inline_value = arg[2] ? arg + 2 : NULL;
			return i;
		}
	return -1;
}

/*
 * Read the whole command line, options anywhere, and check everything
 * that can be checked without a server; --help and --version are answered
 * here.  A value that follows an option that takes one is that value,
 * whatever it looks like ("--reason --help").
 */
static void
parse_command_line(int argc, char **argv, Invocation *inv)
{
	const char **positional = calloc(argc, sizeof(char *));
	int			npositional = 0;
	bool		options_ended = false;
	const char *unknown = NULL;
	const CommandOption *own;

	inv->given = calloc(argc, sizeof(OptionId));
	inv->values = calloc(argc, sizeof(char *));
	if (positional == NULL || inv->given == NULL || inv->values == NULL)
		fail(EXIT_REFUSED, "out of memory");
	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];
		const char *value;
		int			id;

		if (options_ended || arg[0] != '-' || arg[1] == '\0')
		{
			positional[npositional++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0)
		{
			options_ended = true;
			continue;
		}
		if ((id = find_option(arg, &value)) < 0)
		{
			/* said once the command is known, with its usage */
			if (unknown == NULL)
				unknown = arg;
			continue;
		}
		if (options[id].arg && value == NULL)
		{
			if (i + 1 >= argc)
				usage_error(NULL, "option \"%s\" needs a value (%s)", arg, options[id].arg);
			value = argv[++i];
		}
		else if (!options[id].arg && value != NULL)
			usage_error(NULL, "option \"%s\" takes no value", arg);
		inv->given[inv->ngiven] = id;
		inv->values[inv->ngiven++] = value;
	}

	if (option_value(inv, OPT_VERSION))
	{
		printf("%s %s\n", progname, TFGUARD_VERSION);
		exit(0);
	}
	if (npositional > 0 && strcmp(positional[0], "help") == 0)
	{
		/* "tfguard help [COMMAND]" */
		memmove(positional, positional + 1, --npositional * sizeof(char *));
		inv->given[inv->ngiven++] = OPT_HELP;
	}
	if (npositional > 0)
		inv->command = find_command(positional[0]);
	if (unknown)
		usage_error(inv->command, "unknown option \"%s\"", unknown);
	if (npositional > 0 && inv->command == NULL)
		usage_error(NULL, "unknown command \"%s\"", positional[0]);
	if (option_value(inv, OPT_HELP))
	{
		print_help(inv->command);
		exit(0);
	}
	if (inv->command == NULL)
		usage_error(NULL, "no command given");

	for (int i = 0; i < inv->ngiven; i++)
		if (inv->given[i] >= FIRST_COMMAND_OPTION &&
			command_option(inv->command, inv->given[i]) == NULL)
			usage_error(inv->command, "option --%s does not apply to \"%s\"",
						options[inv->given[i]].name, inv->command->name);
	for (own = inv->command->options; own->help; own++)
		if ((own->flags & OPTION_REQUIRED) && option_value(inv, own->id) == NULL)
			usage_error(inv->command, "--%s is required", options[own->id].name);

	if (inv->command->operand && npositional < 2)
		usage_error(inv->command, "missing %s", inv->command->operand);
	if (npositional > (inv->command->operand ? 2 : 1))
		usage_error(inv->command, "unexpected argument \"%s\"",
					positional[inv->command->operand ? 2 : 1]);
	if (inv->command->operand)
	{
		inv->operand = positional[1];
		if (strcmp(inv->command->operand, "AUDIT_ID") == 0 &&
			(strspn(inv->operand, "0123456789") != strlen(inv->operand) ||
			 strlen(inv->operand) == 0 || strlen(inv->operand) > 18))
			usage_error(inv->command, "\"%s\" is not an audit id (a positive integer)",
						inv->operand);
	}

	for (int i = 0; i < inv->ngiven; i++)
	{
		if ((inv->given[i] == OPT_TTL || inv->given[i] == OPT_SINCE) &&
			parse_duration(inv->values[i]) < 0)
			usage_error(inv->command, "\"%s\" is not a duration for --%s; give a number and "
						"a unit, as in 90s, 10m, 1h30m, 2d",
						inv->values[i], options[inv->given[i]].name);
		if (inv->given[i] == OPT_DECISION &&
			strcmp(inv->values[i], "blocked") != 0 && strcmp(inv->values[i], "refused") != 0 &&
			strcmp(inv->values[i], "allowed") != 0 && strcmp(inv->values[i], "warned") != 0)
			usage_error(inv->command, "\"%s\" is not a decision: blocked (or refused), "
						"allowed, warned", inv->values[i]);
	}
	json_output = option_value(inv, OPT_JSON) != NULL;
	wide_output = option_value(inv, OPT_WIDE) != NULL;
	free(positional);
}

int
main(int argc, char **argv)
{
	Invocation	inv = {0};
	const char *keywords[] = {"host", "port", "user", "dbname", "application_name", NULL};
	const char *values[] = {NULL, NULL, NULL, NULL, "tfguard", NULL};
	PGconn	   *conn;
	int			status;

	parse_command_line(argc, argv, &inv);
	values[0] = option_value(&inv, OPT_HOST);
	values[1] = option_value(&inv, OPT_PORT);
	values[2] = option_value(&inv, OPT_USER);
	values[3] = option_value(&inv, OPT_DBNAME);
	/* the home database, unless told otherwise */
	if (values[3] == NULL && getenv("PGDATABASE") == NULL)
		values[3] = "postgres";

	conn = PQconnectdbParams(keywords, values, 1);
	if (conn == NULL)
		fail(EXIT_NO_SERVER, "could not connect: out of memory");
	if (PQstatus(conn) != CONNECTION_OK)
		fail(EXIT_NO_SERVER, "could not connect: %s", PQerrorMessage(conn));
	PQsetNoticeReceiver(conn, notice_receiver, NULL);
	client_encoding = PQclientEncoding(conn);
	client_utf8 = strcmp(PQparameterStatus(conn, "client_encoding"), "UTF8") == 0 ||
		strcmp(PQparameterStatus(conn, "client_encoding"), "SQL_ASCII") == 0;
	if (strcmp(PQparameterStatus(conn, "client_encoding"), "UTF8") == 0)
		ellipsis = "\xe2\x80\xa6";

	status = inv.command->run(conn, &inv);
	PQfinish(conn);
	return status;
}

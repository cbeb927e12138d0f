/*-------------------------------------------------------------------------
 *
 * output.c
 *	  How the tfguard command-line tool shows what the server says.
 *
 * Text from the server (statements, object names, reasons, messages) is
 * shown with every control character as a visible escape, so that what a
 * human reads before deciding is what the trail holds; tables are aligned
 * by display width and cut with a visible ellipsis; JSON is built by the
 * server.  Errors say what to do where the cause is known.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* statements and impacts are cut to this many columns unless --wide */
#define CUT_WIDTH 60

bool		json_output = false;
bool		wide_output = false;
static int	client_encoding = -1;	/* the connection's, once connected */
static bool client_utf8 = true; /* its text is UTF-8 (or unchecked bytes) */
static const char *ellipsis = "...";	/* "\u2026" where the client speaks UTF-8 */

void
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

void
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

	if (s[0] < 0xc2 || s[0] >= 0xf5)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	cp = s[0] & (0x7f >> len);
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
 * direction overrides become visible escapes (\x1b, and \n for a
 * newline), as in the server log line, so that no text can move the
 * cursor, hide itself or rewrite what is on the screen; keep_layout keeps
 * the newlines and tabs of a message in our own words (or libpq's).  Stops
 * before going over max_width columns (0: no limit).  Returns the columns
 * used; *complete says whether all of the text fitted.
 */
static int
render_upto(Buf *buf, const char *text, int max_width, bool keep_layout,
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

		if (len == 0 && keep_layout && (*p == '\n' || *p == '\t'))
			len = 1;			/* our own message's layout */
		else if (len == 0)
		{
			if (*p == '\n')
				strcpy(escape, "\\n");
			else
				snprintf(escape, sizeof(escape), "\\x%02x", (unsigned char) *p);
			out = escape;
			len = 1;
			width = strlen(escape);
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
render(Buf *buf, const char *text, int max_width, bool keep_layout)
{
	size_t		start = buf->len;
	int			ellipsis_width = strcmp(ellipsis, "...") == 0 ? 3 : 1;
	bool		complete;
	int			width = render_upto(buf, text, max_width, keep_layout, &complete);

	if (complete)
		return width;
	buf->len = start;
	width = render_upto(buf, text, max_width - ellipsis_width, keep_layout, &complete);
	buf_puts(buf, ellipsis);
	return width + ellipsis_width;
}

/* Print text from the server to out, harmlessly. */
void
print_safe(FILE *out, const char *text, bool keep_layout)
{
	Buf			buf = {0};

	render(&buf, text ? text : "", 0, keep_layout);
	if (buf.data)
		fputs(buf.data, out);
	free(buf.data);
}

/* ---------- messages ---------- */

/* "tfguard: " and a message in our own words (newlines kept) on stderr. */
void
say(const char *fmt, va_list args)
{
	char		message[2048];

	vsnprintf(message, sizeof(message), fmt, args);
	/* libpq's messages end in a newline of their own */
	for (size_t len = strlen(message); len > 0 && message[len - 1] == '\n'; len--)
		message[len - 1] = '\0';
	fprintf(stderr, "%s: ", progname);
	print_safe(stderr, message, true);
	fputc('\n', stderr);
}

/* Say something on standard error, "tfguard: " first, and go on. */
void
tell(const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	say(fmt, args);
	va_end(args);
}

/* Say what went wrong and exit. */
void
fail(int status, const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	say(fmt, args);
	va_end(args);
	exit(status);
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
 * The errors a human meets first, said in terms of what to do instead of
 * the server's words: connected to a database where the extension is not,
 * or as a role outside tfguard_admin.  Returns false, having printed
 * nothing, for any other error.
 */
static bool
explain_error(PGconn *conn, const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	char	   *answer;
	bool		explained = false;

	if (state == NULL || primary == NULL)
		return false;
	/* tfguard's view, function or schema not found: another database */
	if ((strcmp(state, "42P01") == 0 || strcmp(state, "3F000") == 0 ||
		 strcmp(state, "42883") == 0) && strstr(primary, "tfguard") != NULL)
	{
		answer = probe(conn, "SELECT EXISTS (SELECT FROM pg_catalog.pg_extension"
					   " WHERE extname = 'tfguard')");
		if (answer && strcmp(answer, "f") == 0)
		{
			char	   *home = probe(conn, "SELECT current_setting('tfguard.database', true)");
			Buf			message = {0};

			if (home == NULL)
				buf_puts(&message, "tfguard is not loaded on this server: add it to "
						 "shared_preload_libraries and restart the server");
			else if (strcmp(home, PQdb(conn)) == 0)
			{
				buf_puts(&message, "the extension is not created in tfguard's home database \"");
				buf_puts(&message, home);
				buf_puts(&message, "\": a superuser runs CREATE EXTENSION tfguard there");
			}
			else
			{
				buf_puts(&message, "database \"");
				buf_puts(&message, PQdb(conn));
				buf_puts(&message, "\" is not tfguard's home database; connect to \"");
				buf_puts(&message, home);
				buf_puts(&message, "\" (tfguard.database) with -d ");
				buf_puts(&message, home);
			}
			fprintf(stderr, "%s: ", progname);
			print_safe(stderr, message.data, false);
			fputc('\n', stderr);
			free(message.data);
			free(home);
			explained = true;
		}
		free(answer);
	}
	else if (strcmp(state, "42501") == 0 && strstr(primary, "permission denied") != NULL)
	{
		answer = probe(conn, "SELECT pg_catalog.pg_has_role('tfguard_admin', 'MEMBER')");
		if (answer == NULL || strcmp(answer, "f") == 0)
		{
			fprintf(stderr, "%s: role \"", progname);
			print_safe(stderr, PQuser(conn), false);
			fprintf(stderr, "\" must be a member of tfguard_admin to use tfguard "
					"(a superuser runs GRANT tfguard_admin TO ...)\nDETAIL: the server said: ");
			print_safe(stderr, primary, false);
			fputc('\n', stderr);
			explained = true;
		}
		free(answer);
	}
	return explained;
}

/* Run a query with text parameters; exit 1 with the server's message on error. */
PGresult *
run(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType status = PQresultStatus(res);

	if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
	{
		if (PQstatus(conn) != CONNECTION_OK)
			fail(EXIT_NO_SERVER, "lost the connection: %s", PQerrorMessage(conn));
		if (!explain_error(conn, res))
			print_server_message(res);
		PQclear(res);
		PQfinish(conn);
		exit(EXIT_REFUSED);
	}
	return res;
}

/* ---------- output ---------- */

static bool
is_cut_column(const char *name)
{
	return !wide_output && (strcmp(name, "statement") == 0 || strcmp(name, "impact") == 0);
}

/* Print a result's rows as a table; "(none)" for no rows, unless follow. */
void
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

/* Print the first ncols fields of one row, a name and its value a line. */
void
print_fields(FILE *out, const PGresult *res, int row, int ncols)
{
	int			width = 0;

	for (int c = 0; c < ncols; c++)
		if ((int) strlen(PQfname(res, c)) > width)
			width = strlen(PQfname(res, c));
	for (int c = 0; c < ncols; c++)
	{
		fprintf(out, "%-*s  ", width, PQfname(res, c));
		print_safe(out, PQgetvalue(res, row, c), false);
		fputc('\n', out);
	}
}

/*
 * Print a query's rows as JSON built by the server: one array, or with
 * one_per_line an object a line (--follow, single records).  Returns the
 * number of rows.
 */
int
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
void
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

/*
 * Once connected: the server's notices are shown as its errors are, and
 * text is checked as the client encoding says.
 */
void
output_connected(PGconn *conn)
{
	const char *encoding = PQparameterStatus(conn, "client_encoding");

	PQsetNoticeReceiver(conn, notice_receiver, NULL);
	client_encoding = PQclientEncoding(conn);
	client_utf8 = encoding == NULL || strcmp(encoding, "UTF8") == 0 ||
		strcmp(encoding, "SQL_ASCII") == 0;
	if (encoding && strcmp(encoding, "UTF8") == 0)
		ellipsis = "\xe2\x80\xa6";
}

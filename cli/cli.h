/*-------------------------------------------------------------------------
 *
 * cli.h
 *	  What the parts of the tfguard command-line tool share: the options
 *	  and commands (tfguard.c reads the command line, commands.c runs
 *	  them) and the output (output.c shows the server's answers).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_CLI_H
#define TFGUARD_CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "libpq-fe.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_NO_SERVER 3

extern const char *progname;

/* ---------- the command line (tfguard.c) ---------- */

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
	CommandOption options[8];	/* a NULL help ends them */
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

extern long long parse_duration(const char *text);
extern const char *option_value(const Invocation *inv, OptionId id);
extern int	option_values(const Invocation *inv, OptionId id, const char **out);

/* ---------- the commands (commands.c) ---------- */

extern const Command commands[];
extern const int ncommands;

/* ---------- output (output.c) ---------- */

/* A growing string. */
typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		size;
} Buf;

/* An aligned table; across the batches of --follow, its header is printed once. */
typedef struct Table
{
	FILE	   *out;
	int		   *width;
	bool		header_printed;
} Table;

extern bool json_output;
extern bool wide_output;

extern void buf_append(Buf *buf, const char *bytes, size_t n);
extern void buf_puts(Buf *buf, const char *text);
extern void print_safe(FILE *out, const char *text, bool keep_layout);
extern void say(const char *fmt, va_list args) __attribute__((format(printf, 1, 0)));
extern void tell(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern void fail(int status, const char *fmt,...)
			__attribute__((format(printf, 2, 3), noreturn));
extern void output_connected(PGconn *conn);
extern PGresult *run(PGconn *conn, const char *sql, int nparams, const char *const *params);
extern void print_fields(FILE *out, const PGresult *res, int row, int ncols);
extern void print_table(Table *table, const PGresult *res, bool follow);
extern int	print_json(PGconn *conn, const char *sql, int nparams,
					   const char *const *params, bool one_per_line);
extern void print_rows(PGconn *conn, const char *sql, int nparams, const char *const *params);

#endif							/* TFGUARD_CLI_H */

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
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef TFGUARD_VERSION
#define TFGUARD_VERSION "(unknown version)"
#endif

const char *progname = "tfguard";

static void usage_error(const Command *command, const char *fmt,...)
			__attribute__((format(printf, 2, 3), noreturn));

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

/*
 * A duration as the options take it: one or more NUMBER UNIT pairs, as in
 * 90s, 10m, 1h30m or "2 hours"; the units are s, m, h, d, w and y, also
 * spelled sec(s), second(s), min(s), minute(s), hour(s), day(s), week(s),
 * year(s) (365 days).
 * Returns the seconds, or -1 if it is not one.
 */
long long
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

#define DURATION_HELP \
	"Durations (TTL, --since) are a number and a unit, or several: 90s, 10m, 1h30m,\n" \
	"2d; the units are s, m, h, d, w, y, also spelled out (\"2 hours\").\n"

/* ---------- the options given ---------- */

const char *
option_value(const Invocation *inv, OptionId id)
{
	const char *value = NULL;

	for (int i = 0; i < inv->ngiven; i++)
		if (inv->given[i] == id)
			value = inv->values[i] ? inv->values[i] : "";
	return value;
}

/* Every value given for a repeatable option, in order; returns how many. */
int
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

/* Bad usage: say why and where to look, on one line; exit 2. */
static void
usage_error(const Command *command, const char *fmt,...)
{
	va_list		args;
	char		message[1024];

	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	fprintf(stderr, "%s: ", progname);
	print_safe(stderr, message, false);
	if (command)
		fprintf(stderr, " (see \"%s %s --help\")\n", progname, command->name);
	else
		fprintf(stderr, " (see \"%s --help\")\n", progname);
	exit(EXIT_USAGE);
}

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
	output_connected(conn);

	status = inv.command->run(conn, &inv);
	PQfinish(conn);
	return status;
}

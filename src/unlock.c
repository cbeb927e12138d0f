/*-------------------------------------------------------------------------
 *
 * unlock.c
 *	  Unlock tokens: issued by a human, presented by one session, scoped,
 *	  time-limited, never stored or shown in plain text.
 *
 * An admin calls tfguard.issue_token() in the home database and hands the
 * secret ("tfg1_" and 40 hex digits, 160 random bits) to whoever runs the
 * operation.  That session presents it with SET tfguard.token (or
 * PGOPTIONS); the first valid presentation pins the token to that process
 * and its start time for good.  From then until the token expires, is
 * revoked, or the session RESETs it, the decision point lets through the
 * operations and objects the token names, for the role it names, in the
 * database it names.
 *
 * The tokens live in shared memory, because the guard runs in every
 * database and the home database's tables are not reachable from the
 * others: a fixed table under one LWLock, holding the SHA-256 of each
 * secret, never the secret.  Tokens do not survive a restart.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_authid.h"
#include "commands/dbcommands.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "common/string.h"
#include "mb/pg_wchar.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "tfguard.h"

PG_FUNCTION_INFO_V1(tfguard_issue_token);
PG_FUNCTION_INFO_V1(tfguard_revoke_token);
PG_FUNCTION_INFO_V1(tfguard_token_list);

#define MAX_TOKENS 128
#define MAX_TOKEN_OBJECTS 16
#define TOKEN_SECRET_BYTES 20
#define TOKEN_ID_BYTES 6
#define TOKEN_ID_LEN (TOKEN_ID_BYTES * 2 + 1)
#define OBJECT_NAME_LEN TFGUARD_OBJECT_NAME_MAX

typedef struct TokenEntry
{
	bool		in_use;
	char		id[TOKEN_ID_LEN];	/* public, for the trail and the view */
	uint8		hash[PG_SHA256_DIGEST_LENGTH];	/* of the secret */
	Oid			role;
	char		role_name[NAMEDATALEN];
	Oid			database;		/* InvalidOid: any database */
	char		database_name[NAMEDATALEN];
	uint32		operations;		/* bit (1 << GuardedOperation) */
	int			nobjects;		/* -1: any object */
	char		objects[MAX_TOKEN_OBJECTS][OBJECT_NAME_LEN];
	int			encoding;		/* of the names in objects[] */
	char		issued_by[NAMEDATALEN];
	TimestampTz issued_at;
	TimestampTz expires_at;
	bool		revoked;
	int			pinned_pid;		/* 0 until first presented */
	TimestampTz pinned_start;	/* that backend's start time */
	char		reason[256];
	TransactionId issued_xid;	/* next xid when issued: a catalog row with
								 * a newer xmin changed after issuing */
	int64		approves;		/* an approval: the refused attempt's audit
								 * id; it has no secret and is pinned from
								 * the start.  0 for a token. */
	Oid			object_oid;		/* an approval: the refused object, and the */
	TransactionId object_stamp; /* raw xmin of its catalog row then; see
								 * identity.c.  Its name is only shown. */
} TokenEntry;

typedef struct TokenTable
{
	LWLock	   *lock;
	TokenEntry	tokens[MAX_TOKENS];
} TokenTable;

static TokenTable *token_table = NULL;

/* settings */
char	   *tfguard_token_setting = NULL;
int			tfguard_max_ttl_s = 3600;

/* the token this session presented (GUC "extra"), or NULL */
typedef struct SessionToken
{
	char		id[TOKEN_ID_LEN];
} SessionToken;
static SessionToken *session_token = NULL;

/* tokens that let this transaction through, checked again at commit */
static List *tokens_used_in_transaction = NIL;

static const GuardedOperation all_operations[] = {
	GUARDED_DROP_DATABASE, GUARDED_DROP_TABLE, GUARDED_TRUNCATE,
	GUARDED_DELETE_ALL, GUARDED_RECONFIGURE
};

/* ---------- shared memory (requested and attached by shmem.c) ---------- */

Size
tfguard_unlock_shmem_size(void)
{
	return MAXALIGN(sizeof(TokenTable));
}

/* Called with AddinShmemInitLock held. */
void
tfguard_unlock_shmem_attach(void)
{
	bool		found;

	token_table = ShmemInitStruct("tfguard tokens", sizeof(TokenTable), &found);
	if (!found)
	{
		memset(token_table, 0, sizeof(TokenTable));
		token_table->lock = &(GetNamedLWLockTranche("tfguard tokens"))->lock;
	}
}

/* ---------- helpers ---------- */

static void
sha256(const char *text, uint8 *digest)
{
	if (!tfguard_sha256((const uint8 *) text, strlen(text), digest))
		elog(ERROR, "could not compute SHA-256");
}

static void
random_hex(char *dest, int nbytes)
{
	uint8		bytes[TOKEN_SECRET_BYTES];

	Assert(nbytes <= TOKEN_SECRET_BYTES);
	if (!pg_strong_random(bytes, nbytes))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random unlock token")));
	for (int i = 0; i < nbytes; i++)
		sprintf(dest + 2 * i, "%02x", bytes[i]);
}

/* Is it the shape of a secret: the prefix and 40 lowercase hex digits? */
static bool
looks_like_secret(const char *value)
{
	size_t		prefix = strlen(TFGUARD_TOKEN_PREFIX);

	if (strncmp(value, TFGUARD_TOKEN_PREFIX, prefix) != 0 ||
		strlen(value) != prefix + 2 * TOKEN_SECRET_BYTES)
		return false;
	for (const char *p = value + prefix; *p; p++)
	{
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	}
	return true;
}

bool
tfguard_parse_operation(const char *name, GuardedOperation *operation)
{
	for (int i = 0; i < (int) lengthof(all_operations); i++)
	{
		if (strcmp(name, tfguard_operation_name(all_operations[i])) == 0)
		{
			*operation = all_operations[i];
			return true;
		}
	}
	return false;
}

static char *
operations_text(uint32 operations)
{
	StringInfoData out;

	initStringInfo(&out);
	for (int i = 0; i < (int) lengthof(all_operations); i++)
	{
		if (operations & (1 << all_operations[i]))
			appendStringInfo(&out, "%s%s", out.len ? "," : "",
							 tfguard_operation_name(all_operations[i]));
	}
	return out.data;
}

static char *
objects_text(const TokenEntry *token)
{
	StringInfoData out;

	if (token->nobjects < 0)
		return pstrdup("any");
	initStringInfo(&out);
	for (int i = 0; i < token->nobjects; i++)
		appendStringInfo(&out, "%s%s", i ? "," : "", token->objects[i]);
	return out.data;
}

static TokenEntry *
find_token_by_id(const char *id)
{
	for (int i = 0; i < MAX_TOKENS; i++)
	{
		if (token_table->tokens[i].in_use &&
			strcmp(token_table->tokens[i].id, id) == 0)
			return &token_table->tokens[i];
	}
	return NULL;
}

static bool
pinned_to_this_session(const TokenEntry *token)
{
	return token->pinned_pid == MyProcPid &&
		token->pinned_start == MyStartTimestamp;
}

/* Why this session cannot use the token now, or NULL if it can. */
static const char *
unusable_reason(const TokenEntry *token)
{
	if (token->revoked)
		return "it was revoked";
	if (GetCurrentTimestamp() >= token->expires_at)
		return "it has expired";
	if (token->role != GetSessionUserId())
		return "it was issued for another role";
	if (OidIsValid(token->database) && token->database != MyDatabaseId)
		return "it was issued for another database";
	if (token->pinned_pid != 0 && !pinned_to_this_session(token))
		return "it was already presented by another session";
	return NULL;
}

void
tfguard_check_caller_is_admin(const char *action)
{
	Oid			admin = get_role_oid("tfguard_admin", true);

	if (!superuser() &&
		!(OidIsValid(admin) && has_privs_of_role(GetUserId(), admin)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", action),
				 errdetail("Only superusers and members of tfguard_admin can %s.",
						   action)));
}

/* Record an unlock event; fail closed if it cannot be recorded. */
static void
audit_event(const char *operation, const char *object, const char *decision,
			const char *token_id, const char *detail)
{
	AuditEvent	event = {operation, object, decision, token_id, detail, 0, NULL,
	InvalidOid, InvalidTransactionId};

	tfguard_audit_event_or_error(&event);
}

/* ---------- issuing and revoking ---------- */

/* An unlock's lifetime in seconds: positive, capped at tfguard.max_ttl. */
double
tfguard_ttl_seconds(Datum interval)
{
	double		ttl_s = DatumGetFloat8(DirectFunctionCall2(interval_part,
														   CStringGetTextDatum("epoch"),
														   interval));

	if (ttl_s <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the ttl of an unlock must be positive")));
	if (ttl_s > tfguard_max_ttl_s)
	{
		ereport(NOTICE,
				(errmsg("ttl capped at tfguard.max_ttl (%d s)", tfguard_max_ttl_s)));
		ttl_s = tfguard_max_ttl_s;
	}
	return ttl_s;
}

/*
 * Put a fully built entry into the table: a free slot, or one whose unlock
 * can never be used again.  An approval is not installed if the same
 * request already has a live one: checked under the same lock, so that two
 * admins approving at once cannot both succeed.  Nothing that can fail
 * runs under the lock.
 */
static void
install_entry(const TokenEntry *entry)
{
	TimestampTz now = GetCurrentTimestamp();
	TokenEntry *slot = NULL;
	bool		already_approved = false;

	LWLockAcquire(token_table->lock, LW_EXCLUSIVE);
	for (int i = 0; i < MAX_TOKENS && entry->approves != 0; i++)
	{
		TokenEntry *existing = &token_table->tokens[i];

		if (existing->in_use && existing->approves == entry->approves &&
			!existing->revoked && existing->expires_at > now)
			already_approved = true;
	}
	for (int i = 0; i < MAX_TOKENS && slot == NULL && !already_approved; i++)
	{
		TokenEntry *candidate = &token_table->tokens[i];

		if (!candidate->in_use || candidate->revoked || candidate->expires_at <= now)
			slot = candidate;
	}
	if (slot != NULL)
		memcpy(slot, entry, sizeof(TokenEntry));
	LWLockRelease(token_table->lock);
	if (already_approved)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("audit id " INT64_FORMAT " was already approved",
						entry->approves)));
	if (slot == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many live unlocks (%d)", MAX_TOKENS),
				 errhint("Revoke tokens that are no longer needed.")));
}

/* Start an entry: what every token and approval has. */
static void
init_entry(TokenEntry *entry, double ttl_s, const char *reason)
{
	TimestampTz now = GetCurrentTimestamp();

	memset(entry, 0, sizeof(TokenEntry));
	entry->in_use = true;
	random_hex(entry->id, TOKEN_ID_BYTES);
	strlcpy(entry->issued_by, GetUserNameFromId(GetUserId(), false), NAMEDATALEN);
	entry->issued_at = now;
	/* see object_changed_since() */
	entry->issued_xid = GetOldestActiveTransactionId();
	entry->expires_at = TimestampTzPlusMilliseconds(now, (int64) (ttl_s * 1000));
	strlcpy(entry->reason, reason ? reason : "", sizeof(entry->reason));
	/* never cut a multibyte character in half */
	entry->reason[pg_mbcliplen(entry->reason, strlen(entry->reason),
							   sizeof(entry->reason) - 1)] = '\0';
	entry->encoding = GetDatabaseEncoding();
}

/* Record an unlock's creation; an unlock that is not in the trail must not exist. */
static void
record_creation(const char *event, const char *object, const char *id,
				const char *detail, int64 refers_to)
{
	AuditEvent	audit = {event, object, "allowed", id, detail, refers_to, NULL,
	InvalidOid, InvalidTransactionId};

	PG_TRY();
	{
		tfguard_audit_event_or_error(&audit);
	}
	PG_CATCH();
	{
		tfguard_unlock_forget(id);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/*
 * tfguard.issue_token(role, operations, objects, ttl, database, reason):
 * returns the secret.  Only the returned text ever holds it.
 */
Datum
tfguard_issue_token(PG_FUNCTION_ARGS)
{
	Name		role_name;
	Oid			role;
	uint32		operations = 0;
	int			nobjects = -1;
	char		objects[MAX_TOKEN_OBJECTS][OBJECT_NAME_LEN];
	double		ttl_s;
	Oid			database = InvalidOid;
	const char *database_name = "";
	char	   *reason = PG_ARGISNULL(5) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(5));
	char		secret[sizeof(TFGUARD_TOKEN_PREFIX) + 2 * TOKEN_SECRET_BYTES];
	TokenEntry	entry;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	char	   *detail;

	tfguard_check_caller_is_admin("issue unlock tokens");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("role, operations and ttl must not be null")));

	role_name = PG_GETARG_NAME(0);
	role = get_role_oid(NameStr(*role_name), false);
	if (role == GetUserId() || role == GetSessionUserId())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot issue an unlock token for your own role"),
				 errdetail("The one who unlocks is not the one who runs the operation."),
				 errhint("Issue the token for the role that will run the operation.")));

	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		GuardedOperation operation;
		char	   *name = nulls[i] ? NULL : TextDatumGetCString(elems[i]);

		if (name == NULL || !tfguard_parse_operation(name, &operation))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown guarded operation \"%s\"", name ? name : "NULL"),
					 errhint("The operations are drop_database, drop_table, truncate, delete_all and reconfigure.")));
		operations |= 1 << operation;
	}
	if (operations == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an unlock token must name at least one operation")));

	if (!PG_ARGISNULL(2))
	{
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, -1, false,
						  TYPALIGN_INT, &elems, &nulls, &n);
		if (n > MAX_TOKEN_OBJECTS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("an unlock token can name at most %d objects", MAX_TOKEN_OBJECTS)));
		for (int i = 0; i < n; i++)
		{
			char	   *name = nulls[i] ? NULL : TextDatumGetCString(elems[i]);

			if (name == NULL || name[0] == '\0' || strlen(name) >= OBJECT_NAME_LEN)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid object name in unlock token"),
						 errhint("Name tables as schema.table and databases by name.")));
			strlcpy(objects[i], name, OBJECT_NAME_LEN);
		}
		nobjects = n;
	}

	ttl_s = tfguard_ttl_seconds(PG_GETARG_DATUM(3));

	if (!PG_ARGISNULL(4))
	{
		database_name = NameStr(*PG_GETARG_NAME(4));
		database = get_database_oid(database_name, false);
	}

	strcpy(secret, TFGUARD_TOKEN_PREFIX);
	random_hex(secret + strlen(TFGUARD_TOKEN_PREFIX), TOKEN_SECRET_BYTES);

	init_entry(&entry, ttl_s, reason);
	sha256(secret, entry.hash);
	entry.role = role;
	strlcpy(entry.role_name, NameStr(*role_name), NAMEDATALEN);
	entry.database = database;
	strlcpy(entry.database_name, database_name, NAMEDATALEN);
	entry.operations = operations;
	entry.nobjects = nobjects;
	for (int i = 0; i < nobjects; i++)
		strlcpy(entry.objects[i], objects[i], OBJECT_NAME_LEN);
	detail = psprintf("operations=%s objects=%s database=%s expires_at=%s reason=%s",
					  operations_text(operations), objects_text(&entry),
					  OidIsValid(database) ? database_name : "any",
					  timestamptz_to_str(entry.expires_at), reason);
	install_entry(&entry);
	record_creation("issue_token", entry.role_name, entry.id, detail, 0);
	PG_RETURN_TEXT_P(cstring_to_text(secret));
}

/* tfguard.revoke_token(token_id): the token can no longer be used. */
Datum
tfguard_revoke_token(PG_FUNCTION_ARGS)
{
	char	   *id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TokenEntry *token;
	char		role_name[NAMEDATALEN];

	tfguard_check_caller_is_admin("revoke unlock tokens");
	LWLockAcquire(token_table->lock, LW_EXCLUSIVE);
	token = find_token_by_id(id);
	if (token != NULL)
	{
		token->revoked = true;
		strlcpy(role_name, token->role_name, NAMEDATALEN);
	}
	LWLockRelease(token_table->lock);
	if (token == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unlock token \"%s\" does not exist", id),
				 errhint("The tfguard.tokens view lists the tokens by id.")));
	audit_event("revoke_token", role_name, "allowed", id, NULL);
	PG_RETURN_VOID();
}

/* The rows of the tfguard.tokens view; never the secrets. */
Datum
tfguard_token_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	tfguard_check_caller_is_admin("list unlock tokens");
	InitMaterializedSRF(fcinfo, 0);

	LWLockAcquire(token_table->lock, LW_SHARED);
	for (int i = 0; i < MAX_TOKENS; i++)
	{
		TokenEntry *t = &token_table->tokens[i];
		Datum		values[13];
		bool		nulls[13] = {0};

		if (!t->in_use)
			continue;
		values[0] = CStringGetTextDatum(t->id);
		values[1] = CStringGetTextDatum(t->role_name);
		values[2] = CStringGetTextDatum(operations_text(t->operations));
		values[3] = CStringGetTextDatum(objects_text(t));
		nulls[3] = t->nobjects < 0;
		values[4] = CStringGetTextDatum(t->database_name);
		nulls[4] = !OidIsValid(t->database);
		values[5] = CStringGetTextDatum(t->issued_by);
		values[6] = TimestampTzGetDatum(t->issued_at);
		values[7] = TimestampTzGetDatum(t->expires_at);
		values[8] = Int32GetDatum(t->pinned_pid);
		nulls[8] = t->pinned_pid == 0;
		values[9] = TimestampTzGetDatum(t->pinned_start);
		nulls[9] = t->pinned_pid == 0;
		values[10] = BoolGetDatum(t->revoked);
		values[11] = CStringGetTextDatum(t->reason);
		nulls[11] = t->reason[0] == '\0';
		values[12] = Int64GetDatum(t->approves);
		nulls[12] = t->approves == 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(token_table->lock);
	return (Datum) 0;
}

/* ---------- approvals ---------- */

/*
 * Unlock one operation on one object for one live session (pid and start
 * time), as tfguard.approve() decided.  The approval binds to the object
 * the refused attempt was about (OID and catalog row version); its name is
 * kept for people.  Returns the approval's id.
 */
char *
tfguard_unlock_grant_approval(int64 request, Oid role, const char *role_name,
							  Oid database, const char *database_name,
							  GuardedOperation operation, const char *object,
							  Oid object_oid, TransactionId object_stamp,
							  int pid, TimestampTz backend_start,
							  double ttl_s, const char *reason)
{
	TokenEntry	entry;

	init_entry(&entry, ttl_s, reason);
	entry.approves = request;
	entry.role = role;
	strlcpy(entry.role_name, role_name, NAMEDATALEN);
	entry.database = database;
	strlcpy(entry.database_name, database_name, NAMEDATALEN);
	entry.operations = 1 << operation;
	entry.nobjects = 1;
	strlcpy(entry.objects[0], object, OBJECT_NAME_LEN);
	entry.object_oid = object_oid;
	entry.object_stamp = object_stamp;
	entry.pinned_pid = pid;
	entry.pinned_start = backend_start;
	install_entry(&entry);
	record_creation("approve", object, entry.id,
					psprintf("approved for %.0f s%s%s", ttl_s,
							 reason ? "; reason=" : "", reason ? reason : ""),
					request);
	return pstrdup(entry.id);
}

/* Deny: end any approval of the request that is still live. */
void
tfguard_unlock_revoke_approvals_of(int64 request)
{
	LWLockAcquire(token_table->lock, LW_EXCLUSIVE);
	for (int i = 0; i < MAX_TOKENS; i++)
	{
		if (token_table->tokens[i].in_use && token_table->tokens[i].approves == request)
			token_table->tokens[i].revoked = true;
	}
	LWLockRelease(token_table->lock);
}

/* Take back an unlock that could not be recorded. */
void
tfguard_unlock_forget(const char *id)
{
	TokenEntry *entry;

	LWLockAcquire(token_table->lock, LW_EXCLUSIVE);
	entry = find_token_by_id(id);
	if (entry != NULL)
		entry->in_use = false;
	LWLockRelease(token_table->lock);
}

/* ---------- presenting: SET tfguard.token ---------- */

/*
 * Find the token a secret belongs to and pin it to this session.  Returns
 * true, or false with *reason set; *id is the token's id when one was
 * found, valid or not.
 */
static bool
validate_and_pin(const char *presented, char *id, const char **reason)
{
	uint8		hash[PG_SHA256_DIGEST_LENGTH];
	TokenEntry *found = NULL;
	char		secret[sizeof(TFGUARD_TOKEN_PREFIX) + 2 * TOKEN_SECRET_BYTES];
	const char *start = presented;
	size_t		len;

	/* pg_stat_activity shows the statement: not with the secret in it */
	tfguard_redact_activity(debug_query_string);

	/*
	 * A secret pasted with a space or newline around it is still that
	 * secret, and still a leak if refused: take it as it is meant.
	 */
	while (isspace((unsigned char) *start))
		start++;
	len = strlen(start);
	while (len > 0 && isspace((unsigned char) start[len - 1]))
		len--;
	if (len >= sizeof(secret))
		len = sizeof(secret) - 1;
	memcpy(secret, start, len);
	secret[len] = '\0';

	if (!looks_like_secret(secret))
	{
		*reason = "it is not an unlock token (tokens look like tfg1_ and 40 hexadecimal digits)";
		return false;
	}
	sha256(secret, hash);

	LWLockAcquire(token_table->lock, LW_EXCLUSIVE);
	for (int i = 0; i < MAX_TOKENS && found == NULL; i++)
	{
		if (token_table->tokens[i].in_use && token_table->tokens[i].approves == 0 &&
			memcmp(token_table->tokens[i].hash, hash, sizeof(hash)) == 0)
			found = &token_table->tokens[i];
	}
	if (found == NULL)
		*reason = "no such token was issued (it may be mistyped, tampered with, or from before a server restart)";
	else
		*reason = unusable_reason(found);

	/*
	 * The first session to present a token owns it, even when it cannot
	 * use it here (wrong database, say): a secret seen by anyone else
	 * (pg_stat_activity, a plan dump) is then worth nothing to them.
	 */
	if (found != NULL && found->pinned_pid == 0)
	{
		found->pinned_pid = MyProcPid;
		found->pinned_start = MyStartTimestamp;
	}
	if (found != NULL)
		strlcpy(id, found->id, TOKEN_ID_LEN);
	LWLockRelease(token_table->lock);
	return *reason == NULL;
}

static void
audit_presentation(const char *id, const char *reason)
{
	audit_event("present_token", GetUserNameFromId(GetSessionUserId(), false),
				reason ? "blocked" : "allowed", id[0] ? id : NULL, reason);
}

/*
 * Called from the ProcessUtility hook for SET tfguard.token = '...': a
 * refused presentation gets an error that names the reason and never
 * repeats the value (the GUC machinery's own message would).
 */
void
tfguard_unlock_check_set(VariableSetStmt *stmt)
{
	A_Const    *value;
	char		id[TOKEN_ID_LEN] = "";
	const char *reason;

	if (stmt->kind != VAR_SET_VALUE || stmt->name == NULL ||
		pg_strcasecmp(stmt->name, "tfguard.token") != 0 ||
		list_length(stmt->args) != 1 || !IsA(linitial(stmt->args), A_Const))
		return;
	value = linitial_node(A_Const, stmt->args);
	if (A_CONST_IS_NULL(value) || !IsA(&value->val, String) ||
		strVal(&value->val)[0] == '\0')
		return;
	if (validate_and_pin(strVal(&value->val), id, &reason))
		return;					/* the check hook records the presentation */
	audit_presentation(id, reason);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("tfguard unlock token rejected"),
			 errdetail("The token was not accepted because %s.", reason),
			 errhint("Ask the administrator who issued it for a new token.")));
}

/*
 * Tokens this session ended with RESET, RESET ALL or DISCARD ALL.  A token
 * presented in the connection's options is the setting's reset value, so
 * the GUC machinery would otherwise bring it back.
 */
static List *ended_tokens = NIL;

/*
 * Check hook of tfguard.token.  Accepts a secret only from SET (and
 * set_config) or the connection's options, never from a configuration
 * file or ALTER ROLE/DATABASE ... SET; pins the token; and replaces the
 * value by a masked one, so that SHOW, pg_settings and current_setting()
 * never hold the secret.
 */
bool
tfguard_check_token(char **newval, void **extra, GucSource source)
{
	char		id[TOKEN_ID_LEN] = "";
	const char *reason;
	SessionToken *token;
	char	   *masked;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;

	/*
	 * A parallel worker restores the leader's masked value; it runs no
	 * guarded operation, and the leader already presented the token.
	 */
	if (InitializingParallelWorker || IsParallelWorker())
	{
		token = tfguard_guc_malloc(sizeof(SessionToken));
		if (token == NULL)
			return false;
		token->id[0] = '\0';
		*extra = token;
		return true;
	}
	if (source != PGC_S_SESSION && source != PGC_S_CLIENT)
	{
		GUC_check_errmsg("tfguard.token can only be set by the session that uses it");
		GUC_check_errdetail("Present a token with SET tfguard.token or PGOPTIONS, not in a configuration file or with ALTER ROLE/DATABASE ... SET.");
		return false;
	}
	if (token_table == NULL)
	{
		GUC_check_errmsg("tfguard is not loaded via shared_preload_libraries");
		return false;
	}
	if (validate_and_pin(*newval, id, &reason))
	{
		ListCell   *lc;

		foreach(lc, ended_tokens)
		{
			if (strcmp(id, (char *) lfirst(lc)) == 0)
				reason = "this session ended it with RESET";
		}
	}
	if (reason != NULL)
	{
		audit_presentation(id, reason);
		GUC_check_errmsg("tfguard unlock token rejected");
		GUC_check_errdetail("The token was not accepted because %s.", reason);
		return false;
	}
	audit_presentation(id, NULL);

	token = tfguard_guc_malloc(sizeof(SessionToken));
	masked = tfguard_guc_malloc(64);
	if (token == NULL || masked == NULL)
		return false;
	strlcpy(token->id, id, TOKEN_ID_LEN);
	snprintf(masked, 64, "token %s (secret hidden)", id);
	tfguard_guc_free(*newval);
	*newval = masked;
	*extra = token;
	return true;
}

void
tfguard_assign_token(const char *newval, void *extra)
{
	SessionToken *token = (SessionToken *) extra;
	ListCell   *lc;

	foreach(lc, ended_tokens)
	{
		if (token != NULL && strcmp(token->id, (char *) lfirst(lc)) == 0)
			token = NULL;
	}
	session_token = token;
}

/* The id of the token this session holds now, or NULL. */
char *
tfguard_unlock_session_token_id(void)
{
	return session_token && session_token->id[0] ? pstrdup(session_token->id) : NULL;
}

static void
end_token(const char *id)
{
	MemoryContext oldcontext;

	if (id == NULL)
		return;
	oldcontext = MemoryContextSwitchTo(TopMemoryContext);
	ended_tokens = lappend(ended_tokens, pstrdup(id));
	MemoryContextSwitchTo(oldcontext);
}

/*
 * Called after RESET tfguard.token, RESET ALL and DISCARD ALL succeeded:
 * both the token held before (held_before) and the one the reset brought
 * back (a token from the connection's options) end for good.
 */
void
tfguard_unlock_end_session_token(const char *held_before)
{
	end_token(held_before);
	if (session_token != NULL && session_token->id[0])
		end_token(session_token->id);
	session_token = NULL;

	/*
	 * Approvals for this session end too: behind a connection pooler,
	 * DISCARD ALL hands the session to the next client.
	 */
	LWLockAcquire(token_table->lock, LW_EXCLUSIVE);
	for (int i = 0; i < MAX_TOKENS; i++)
	{
		TokenEntry *approval = &token_table->tokens[i];

		if (approval->in_use && approval->approves != 0 &&
			pinned_to_this_session(approval))
			approval->revoked = true;
	}
	LWLockRelease(token_table->lock);
}

/* ---------- using ---------- */

/*
 * Does the token name the attempt's operation and object?  Tokens name
 * objects as the admin typed them, in the home database's encoding; a
 * name in another encoding matches only if it is plain ASCII, where the
 * bytes mean the same.  Whether the name still reaches the object it
 * reached at issue is identity.c's question.
 */
static bool
token_names(const TokenEntry *token, const GuardedAttempt *attempt)
{
	if ((token->operations & (1 << attempt->operation)) == 0)
		return false;
	if (token->nobjects < 0)
		return true;
	if (token->encoding != GetDatabaseEncoding() &&
		!pg_is_ascii(attempt->object_name))
		return false;
	for (int i = 0; i < token->nobjects; i++)
	{
		if (strcmp(token->objects[i], attempt->object_name) == 0)
			return true;
	}
	return false;
}

/*
 * Is the approval about this operation on this object?  Objects with an
 * identity (relations, databases) by identity only, and in the database
 * the attempt was made in; settings and tfguard's schema, which have no
 * OID to give, by name.
 */
static bool
approval_names(const TokenEntry *approval, const GuardedAttempt *attempt)
{
	if ((approval->operations & (1 << attempt->operation)) == 0)
		return false;
	if (OidIsValid(approval->object_oid) || OidIsValid(attempt->object_id))
		return approval->object_oid == attempt->object_id;
	return strcmp(approval->objects[0], attempt->object_name) == 0;
}

/*
 * Does an unlock let the attempt through: this session's token, or an
 * approval a human gave one of this session's refused attempts?  If the
 * session has a token that does not, *why_not says why, for the refusal.
 * *approval_of is the audit id of the approved request, or 0.
 */
bool
tfguard_unlock_covers(const GuardedAttempt *attempt, const char **token_id,
					  int64 *approval_of, const char **why_not)
{
	TokenEntry *token;
	enum
	{
		NO_TOKEN, TOKEN_UNUSABLE, TOKEN_OTHER_OPERATION, TOKEN_OTHER_OBJECT,
		TOKEN_NAMES_IT
	}			token_state = NO_TOKEN;
	bool		token_names_objects = false;
	TransactionId token_xid = InvalidTransactionId;
	char		approval_ids[4][TOKEN_ID_LEN];
	int64		approves[4];
	TransactionId approval_stamps[4];
	int			napprovals = 0;

	*token_id = NULL;
	*approval_of = 0;
	*why_not = NULL;
	if (token_table == NULL)
		return false;

	/* under the lock, only copy: catalog lookups come after */
	LWLockAcquire(token_table->lock, LW_SHARED);
	if (session_token != NULL)
	{
		token = find_token_by_id(session_token->id);
		token_state = TOKEN_UNUSABLE;
		if (token == NULL || !pinned_to_this_session(token))
			*why_not = "it is no longer valid";
		else if ((*why_not = unusable_reason(token)) != NULL)
			;
		else if ((token->operations & (1 << attempt->operation)) == 0)
			token_state = TOKEN_OTHER_OPERATION;
		else if (!token_names(token, attempt))
			token_state = TOKEN_OTHER_OBJECT;
		else
		{
			token_state = TOKEN_NAMES_IT;
			token_names_objects = token->nobjects >= 0;
			token_xid = token->issued_xid;
		}
	}
	for (int i = 0; i < MAX_TOKENS && napprovals < (int) lengthof(approves); i++)
	{
		TokenEntry *approval = &token_table->tokens[i];

		if (approval->in_use && approval->approves != 0 &&
			pinned_to_this_session(approval) &&
			unusable_reason(approval) == NULL &&
			approval_names(approval, attempt))
		{
			strlcpy(approval_ids[napprovals], approval->id, TOKEN_ID_LEN);
			approves[napprovals] = approval->approves;
			approval_stamps[napprovals] = approval->object_stamp;
			napprovals++;
		}
	}
	LWLockRelease(token_table->lock);

	if (token_state != NO_TOKEN)
	{
		*token_id = pstrdup(session_token->id);
		if (token_state == TOKEN_OTHER_OPERATION)
			*why_not = psprintf("it does not cover %s", tfguard_operation_name(attempt->operation));
		else if (token_state == TOKEN_OTHER_OBJECT)
			*why_not = psprintf("it does not cover \"%s\"", attempt->object_name);
		else if (token_state == TOKEN_NAMES_IT && token_names_objects &&
				 tfguard_object_written_since(attempt, token_xid))
			*why_not = psprintf("\"%s\" was renamed, moved or altered after the token was issued",
								attempt->object_name);
		else if (token_state == TOKEN_NAMES_IT)
			return true;
	}
	for (int i = 0; i < napprovals; i++)
	{
		/* the very object the human saw refused, not one given its name */
		if (!OidIsValid(attempt->object_id) ||
			tfguard_object_is(attempt, attempt->object_id, approval_stamps[i]))
		{
			*token_id = pstrdup(approval_ids[i]);
			*approval_of = approves[i];
			*why_not = NULL;
			return true;
		}
		if (*why_not == NULL)
		{
			*token_id = pstrdup(approval_ids[i]);
			*why_not = psprintf("\"%s\" was renamed, moved or altered after the refusal that was approved",
								attempt->object_name);
		}
	}
	return false;
}

/*
 * A transactional operation the token let through must not commit after
 * the token expired or was revoked: remember the token for PRE_COMMIT.
 */
void
tfguard_unlock_note_use(const char *token_id)
{
	MemoryContext oldcontext = MemoryContextSwitchTo(TopTransactionContext);

	tokens_used_in_transaction = lappend(tokens_used_in_transaction,
										 pstrdup(token_id));
	MemoryContextSwitchTo(oldcontext);
}

static void
check_tokens_at_commit(XactEvent event, void *arg)
{
	ListCell   *lc;

	/* every transaction passes here: most used no unlock */
	if (tokens_used_in_transaction == NIL)
		return;

	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			/* COMMIT PREPARED could come after expiry, revocation, restart */
			if (tokens_used_in_transaction != NIL)
			{
				tokens_used_in_transaction = NIL;
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot prepare a transaction that used a tfguard unlock"),
						 errdetail("Its commit could come after the unlock has ended.")));
			}
			break;
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			foreach(lc, tokens_used_in_transaction)
			{
				const char *id = lfirst(lc);
				TokenEntry *token;
				const char *reason;

				LWLockAcquire(token_table->lock, LW_SHARED);
				token = find_token_by_id(id);
				reason = token ? unusable_reason(token) : "it is no longer valid";
				LWLockRelease(token_table->lock);
				if (reason != NULL)
				{
					tokens_used_in_transaction = NIL;
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg("tfguard unlock token no longer covers this transaction"),
							 errdetail("Token %s let a guarded operation through, but %s before the transaction committed.", id, reason),
							 errhint("Ask the administrator who issued it for a new token.")));
				}
			}
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			tokens_used_in_transaction = NIL;
			break;
	}
}

void
tfguard_unlock_init(void)
{
	RegisterXactCallback(check_tokens_at_commit, NULL);
}

/*-------------------------------------------------------------------------
 *
 * session_unlock.c
 *	  This session's unlocks: the token it presented (tfguard.token) and
 *	  the approvals a human gave its refused attempts; whether they cover
 *	  an attempt; their end at RESET, DISCARD ALL and expiry.
 *
 * A session presents a token with SET tfguard.token (or PGOPTIONS, or
 * set_config()).  The setting's check hook only validates the secret and
 * masks the value: it finds the token by the hash of its secret and says
 * why it cannot be used, without changing anything, as PostgreSQL's GUC
 * rules ask of a check hook.  The first valid presentation pins the token
 * to this session (process and start time) for good, and is recorded:
 * right after a SET statement succeeded, or at the token's first use for
 * the other ways in.  A SET that is refused is recorded too, from the
 * ProcessUtility hook, with a message that never repeats the secret.
 *
 * An approval is given to the session that was refused.  If that session
 * has ended, as an agent's one-shot connection has, a new session of the
 * same role in the same database claims it with SET tfguard.approval =
 * the request's audit id (or PGOPTIONS); the claim pins it to that
 * session at its first use, and is recorded.  Either way an approval is
 * used once: the transaction that used it commits, and it is gone; a
 * rollback leaves it usable until its ttl.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "common/string.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "audit.h"
#include "identity.h"
#include "operation.h"
#include "redact.h"
#include "session_unlock.h"
#include "unlock_store.h"

/* the token this session presented (the setting's "extra"), or NULL */
typedef struct SessionToken
{
	char		id[UNLOCK_ID_LEN];
} SessionToken;
static SessionToken *session_token = NULL;

/* set when a presentation was accepted and is not yet pinned and recorded */
static bool presentation_pending = false;

/*
 * Tokens this session ended with RESET, RESET ALL or DISCARD ALL.  A token
 * presented in the connection's options is the setting's reset value, so
 * the GUC machinery would otherwise bring it back.
 */
static List *ended_tokens = NIL;

/* tokens that let this transaction through, checked again at commit */
static List *tokens_used_in_transaction = NIL;

/* tfguard.approval: the request whose approval this session claims, or 0 */
int			tfguard_approval_setting = 0;
static bool claim_pending = false;

/*
 * The claim this session ended with RESET ALL or DISCARD ALL: a claim in
 * the connection's options is the setting's reset value, and would come
 * back.
 */
static int	ended_claim = 0;

static void check_unlocks_at_commit(XactEvent event, void *arg);
static void forget_unlocks_used(void);
static bool commit_check_registered = false;

#define MAX_SESSION_APPROVALS 4

/* Record an event of this session's token; fail closed if it cannot be. */
static void
record_presentation(const char *id, const char *reason)
{
	AuditEvent	event = {0};

	event.operation = "present_token";
	event.object_name = GetUserNameFromId(GetSessionUserId(), false);
	event.decision = reason ? "blocked" : "allowed";
	event.token_id = id[0] ? id : NULL;
	event.detail = reason;
	tfguard_audit_event_or_error(&event);
}

static bool
ended_here(const char *id)
{
	ListCell   *lc;

	foreach(lc, ended_tokens)
	{
		if (strcmp(id, (char *) lfirst(lc)) == 0)
			return true;
	}
	return false;
}

/*
 * Is the presented value a token this session can use?  Returns NULL, or
 * why not; *id is the token's id when one was found.  Changes nothing.
 * White space around a pasted secret is ignored.
 */
static const char *
validate(const char *presented, char *id)
{
	char		secret[TOKEN_SECRET_LEN];
	const char *start = presented;
	size_t		len;
	uint8		hash[PG_SHA256_DIGEST_LENGTH];
	UnlockEntry token;

	id[0] = '\0';
	while (isspace((unsigned char) *start))
		start++;
	len = strlen(start);
	while (len > 0 && isspace((unsigned char) start[len - 1]))
		len--;
	/* never cut: a secret with anything appended is not the secret */
	if (len >= sizeof(secret))
		return "it is not an unlock token (tokens look like tfg1_ and 40 hexadecimal digits)";
	memcpy(secret, start, len);
	secret[len] = '\0';

	if (!tfguard_looks_like_secret(secret))
		return "it is not an unlock token (tokens look like tfg1_ and 40 hexadecimal digits)";
	tfguard_hash_secret(secret, hash);
	if (!tfguard_unlock_store_find_token(hash, &token))
		return "no such token was issued (it may be mistyped, tampered with, or from before a server restart or a failover)";
	strlcpy(id, token.id, UNLOCK_ID_LEN);
	if (ended_here(token.id))
		return "this session ended it with RESET";
	return tfguard_unlock_unusable_reason(&token);
}

/*
 * Pin the accepted token to this session and record the presentation.
 * Another session may have pinned it since the check hook looked.
 */
static const char *
pin_presented_token(void)
{
	const char *reason = NULL;

	if (session_token == NULL || session_token->id[0] == '\0')
	{
		presentation_pending = false;
		return NULL;
	}
	if (!tfguard_unlock_store_pin(session_token->id))
		reason = "it was already presented by another session";
	/* pending until the presentation is in the trail: a failure retries */
	record_presentation(session_token->id, reason);
	presentation_pending = false;
	return reason;
}

/*
 * A token presented by a role it was not issued for has left the hands it
 * was given to: revoke it, and record why.  Other rejections (another
 * database, expired) neither pin nor revoke.  Only a SET can do this: a
 * setting's check hook changes nothing.
 */
static bool
revoke_if_leaked(const char *id)
{
	UnlockEntry token;
	AuditEvent	event = {0};

	if (id[0] == '\0' || !tfguard_unlock_store_get(id, &token) ||
		token.approves != 0 || token.revoked || token.role == GetSessionUserId() ||
		!tfguard_unlock_store_revoke(id, &token))
		return false;
	event.operation = "revoke_token";
	event.object_name = token.role_name;
	event.decision = "allowed";
	event.token_id = id;
	event.detail = psprintf("presented by role %s, which it was not issued for: revoked as leaked",
							GetUserNameFromId(GetSessionUserId(), false));
	tfguard_audit_event_or_error(&event);
	return true;
}

/*
 * Called from the ProcessUtility hook before SET tfguard.token = '...'
 * runs: a refused presentation is recorded and gets an error that names
 * the reason and never repeats the value (the GUC machinery's own message
 * would).
 */
void
tfguard_session_unlock_before_set(VariableSetStmt *stmt)
{
	A_Const    *value;
	char		id[UNLOCK_ID_LEN];
	const char *reason;

	if (stmt->kind != VAR_SET_VALUE || stmt->name == NULL ||
		pg_strcasecmp(stmt->name, "tfguard.token") != 0 ||
		list_length(stmt->args) != 1 || !IsA(linitial(stmt->args), A_Const))
		return;
	value = linitial_node(A_Const, stmt->args);
	if (A_CONST_IS_NULL(value) || !IsA(&value->val, String) ||
		strVal(&value->val)[0] == '\0' || !tfguard_unlock_store_ready())
		return;
	reason = validate(strVal(&value->val), id);
	if (reason == NULL)
		return;					/* pinned and recorded once the SET is done */
	if (revoke_if_leaked(id))
		reason = "it was issued for another role, and is now revoked: a token in another role's hands has leaked";
	record_presentation(id, reason);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("tfguard unlock token rejected"),
			 errdetail("The token was not accepted because %s.", reason),
			 errhint("Ask the administrator who issued it for a new token.")));
}

/* Called from the ProcessUtility hook once a SET of tfguard.token succeeded. */
void
tfguard_session_unlock_after_set(void)
{
	const char *reason;

	if (!presentation_pending)
		return;
	reason = pin_presented_token();
	if (reason != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("tfguard unlock token rejected"),
				 errdetail("The token was not accepted because %s.", reason),
				 errhint("Ask the administrator who issued it for a new token.")));
}

/*
 * Check hook of tfguard.token.  Accepts a secret only from SET (and
 * set_config) or the connection's options, never from a configuration
 * file or ALTER ROLE/DATABASE ... SET; validates it; and replaces the
 * value by a masked one, so that SHOW, pg_settings and current_setting()
 * never hold the secret.
 */
bool
tfguard_check_token(char **newval, void **extra, GucSource source)
{
	char		id[UNLOCK_ID_LEN];
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
	if (!tfguard_unlock_store_ready())
	{
		GUC_check_errmsg("tfguard is not loaded via shared_preload_libraries");
		return false;
	}
	/* set_config() passes no hook on its way: keep the secret off show */
	tfguard_redact_activity();
	reason = validate(*newval, id);
	if (reason != NULL)
	{
		GUC_check_errmsg("tfguard unlock token rejected");
		GUC_check_errdetail("The token was not accepted because %s.", reason);
		return false;
	}

	token = tfguard_guc_malloc(sizeof(SessionToken));
	masked = tfguard_guc_malloc(64);
	if (token == NULL || masked == NULL)
		return false;
	strlcpy(token->id, id, UNLOCK_ID_LEN);
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

	if (token != NULL && ended_here(token->id))
		token = NULL;
	/* a new presentation is pinned and recorded after the SET, or at first use */
	presentation_pending = token != NULL && token != session_token &&
		token->id[0] != '\0';
	session_token = token;
}

/* The id of the token this session holds now, or NULL. */
char *
tfguard_session_token_id(void)
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
 * back (a token from the connection's options) end for good, and so do
 * the approvals given to this session: behind a connection pooler,
 * DISCARD ALL hands the session to the next client.
 */
void
tfguard_session_unlock_end(const char *held_before)
{
	end_token(held_before);
	if (session_token != NULL && session_token->id[0])
		end_token(session_token->id);
	session_token = NULL;
	presentation_pending = false;
	if (tfguard_approval_setting != 0)
		ended_claim = tfguard_approval_setting;
	claim_pending = false;
	if (tfguard_unlock_store_ready())
		tfguard_unlock_store_end_session_approvals();
}

/*
 * PREPARE TRANSACTION of a transaction that used an unlock is refused
 * (COMMIT PREPARED could come after the unlock ended).  Called by the
 * judgement before PREPARE (blast_radius.c), which may use an unlock after
 * this module's own callback has run, or before it was registered.
 */
void
tfguard_session_unlock_refuse_prepare(void)
{
	if (tokens_used_in_transaction == NIL)
		return;
	forget_unlocks_used();
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot prepare a transaction that used a tfguard unlock"),
			 errdetail("Its commit could come after the unlock has ended.")));
}

/* ---------- claiming an approval by its request (tfguard.approval) ---------- */

/* Why this session cannot claim the approval of "request", or NULL. */
static const char *
unclaimable_reason(int64 request)
{
	UnlockEntry approval;

	if (!tfguard_unlock_store_find_approval(request, &approval))
		return "it has not been approved, or its approval was denied, used, revoked or has expired";
	return tfguard_unlock_unusable_reason(&approval);
}

bool
tfguard_check_approval(int *newval, void **extra, GucSource source)
{
	const char *reason;

	if (*newval == 0 || InitializingParallelWorker || IsParallelWorker())
		return true;
	if (source != PGC_S_SESSION && source != PGC_S_CLIENT)
	{
		GUC_check_errmsg("tfguard.approval can only be set by the session that claims it");
		GUC_check_errdetail("Claim an approval with SET tfguard.approval or PGOPTIONS, not in a configuration file or with ALTER ROLE/DATABASE ... SET.");
		return false;
	}
	if (!tfguard_unlock_store_ready())
	{
		GUC_check_errmsg("tfguard is not loaded via shared_preload_libraries");
		return false;
	}
	reason = unclaimable_reason(*newval);
	if (reason != NULL)
	{
		GUC_check_errmsg("tfguard approval of audit id %d cannot be claimed", *newval);
		GUC_check_errdetail("It cannot be claimed because %s.", reason);
		GUC_check_errhint("Ask a database administrator to approve the request: SELECT tfguard.approve(%d); in database \"%s\".",
						  *newval, tfguard_database);
		return false;
	}
	return true;
}

void
tfguard_assign_approval(int newval, void *extra)
{
	claim_pending = newval != 0 && newval != ended_claim;
}

/*
 * At its first use for an attempt it covers, after SET tfguard.approval:
 * pin the approval to this session, and record the claim.  False if
 * another session claimed it first.
 */
static bool
claim_approval(const UnlockEntry *approval)
{
	AuditEvent	event = {0};

	if (!tfguard_unlock_store_pin(approval->id))
		return false;
	claim_pending = false;
	event.operation = "claim_approval";
	event.object_name = approval->objects[0];
	event.decision = "allowed";
	event.token_id = approval->id;
	event.refers_to = approval->approves;
	event.detail = "claimed by a new session of the role that was refused";
	tfguard_audit_event_or_error(&event);
	return true;
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
token_names(const UnlockEntry *token, const GuardedAttempt *attempt)
{
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
 * The operations whose unlock lets the attempt through: its own, and for
 * a mass change, the unconditional one that implies it (a DELETE without
 * WHERE that was unlocked removes every row: that is what was unlocked).
 */
static uint32
operations_covering(GuardedOperation operation)
{
	switch (operation)
	{
		case GUARDED_MASS_DELETE:
			return (1 << GUARDED_MASS_DELETE) | (1 << GUARDED_DELETE_ALL);
		case GUARDED_MASS_UPDATE:
			return (1 << GUARDED_MASS_UPDATE) | (1 << GUARDED_UPDATE_ALL);
		default:
			return 1 << operation;
	}
}

/* Does this session's token let the attempt through?  Else *why_not. */
static bool
token_covers(const GuardedAttempt *attempt, const char **why_not)
{
	UnlockEntry token;
	const char *reason;

	if (presentation_pending && (reason = pin_presented_token()) != NULL)
		*why_not = reason;
	else if (!tfguard_unlock_store_get(session_token->id, &token) ||
			 !tfguard_unlock_pinned_here(&token))
		*why_not = "it is no longer valid";
	else if ((*why_not = tfguard_unlock_unusable_reason(&token)) != NULL)
		;
	else if ((token.operations & operations_covering(attempt->operation)) == 0)
		*why_not = psprintf("it does not cover %s", tfguard_operation_name(attempt->operation));
	else if (!token_names(&token, attempt))
		*why_not = psprintf("it does not cover \"%s\"", attempt->object_name);
	else if (token.nobjects >= 0 &&
			 tfguard_object_written_since(attempt, token.issued_xid))
		*why_not = psprintf("\"%s\" was renamed, moved or altered after the token was issued",
							attempt->object_name);
	return *why_not == NULL;
}

/*
 * An approval of a mass change covers the rows the human saw, and a few
 * more: the same statement run again may meet rows added since.  The
 * tolerance is a tenth, at least 10 rows.
 */
static int64
rows_tolerance(int64 approved)
{
	return Max((int64) 10, approved / 10);
}

static bool
rows_beyond_approval(const GuardedAttempt *attempt, const UnlockEntry *approval)
{
	return (attempt->operation == GUARDED_MASS_DELETE ||
			attempt->operation == GUARDED_MASS_UPDATE) &&
		approval->rows_approved >= 0 &&
		attempt->rows_changed > approval->rows_approved + rows_tolerance(approval->rows_approved);
}

/*
 * Does an unlock let the attempt through: this session's token, or an
 * approval a human gave one of this session's refused attempts?  If the
 * session holds an unlock that does not, *why_not says why, for the
 * refusal, and *unlock_id names it.  *approval_of is the audit id of the
 * approved request, or 0.
 */
bool
tfguard_session_unlock_covers(const GuardedAttempt *attempt, const char **unlock_id,
							  int64 *approval_of, const char **why_not)
{
	UnlockEntry approvals[MAX_SESSION_APPROVALS];
	int			napprovals;

	*unlock_id = NULL;
	*approval_of = 0;
	*why_not = NULL;
	if (!tfguard_unlock_store_ready())
		return false;

	if (session_token != NULL && session_token->id[0])
	{
		*unlock_id = pstrdup(session_token->id);
		if (token_covers(attempt, why_not))
			return true;
	}

	/* approvals are by identity: only attempts with an OID (admin_sql.c) */
	if (!OidIsValid(attempt->object_id))
		return false;
	napprovals = tfguard_unlock_store_session_approvals(operations_covering(attempt->operation),
														attempt->object_id,
														approvals, lengthof(approvals) - 1);
	/* the approval this session claims, not pinned yet: pinned if it covers */
	if (claim_pending &&
		tfguard_unlock_store_find_approval(tfguard_approval_setting, &approvals[napprovals]) &&
		approvals[napprovals].pinned_pid == 0 &&
		tfguard_unlock_unusable_reason(&approvals[napprovals]) == NULL)
		napprovals++;
	for (int i = 0; i < napprovals; i++)
	{
		TransactionId stamp = InvalidTransactionId;

		/* the object, for the operation refused on it: not another one */
		for (int j = 0; j < approvals[i].napproved; j++)
		{
			if (approvals[i].object_oids[j] == attempt->object_id &&
				(approvals[i].object_operations[j] &
				 operations_covering(attempt->operation)) != 0 &&
				(attempt->operation != GUARDED_DROP_COLUMN ||
				 approvals[i].object_columns[j] ==
				 tfguard_column_hash(quote_identifier(attempt->column_name))))
				stamp = approvals[i].object_stamps[j];
		}
		/* the very object the human saw refused, in the version it was */
		if (tfguard_object_is(attempt, attempt->object_id, stamp) &&
			!rows_beyond_approval(attempt, &approvals[i]) &&
			(approvals[i].pinned_pid != 0 || claim_approval(&approvals[i])))
		{
			*unlock_id = pstrdup(approvals[i].id);
			*approval_of = approvals[i].approves;
			*why_not = NULL;
			return true;
		}
		if (*why_not == NULL)
		{
			*unlock_id = pstrdup(approvals[i].id);
			*why_not = rows_beyond_approval(attempt, &approvals[i]) ?
				psprintf("it approved removing or overwriting " INT64_FORMAT " rows of \"%s\", "
						 INT64_FORMAT " with the tolerance, and the transaction reached " INT64_FORMAT,
						 approvals[i].rows_approved, attempt->object_name,
						 approvals[i].rows_approved + rows_tolerance(approvals[i].rows_approved),
						 attempt->rows_changed) :
				psprintf("\"%s\" was renamed, moved or altered after the refusal that was approved",
						 attempt->object_name);
		}
	}
	return false;
}

/*
 * A transactional operation an unlock let through must not commit after
 * the unlock expired or was revoked: remember it for PRE_COMMIT.
 */
void
tfguard_session_unlock_note_use(const char *unlock_id)
{
	MemoryContext oldcontext = MemoryContextSwitchTo(TopTransactionContext);
	ListCell   *lc;

	/*
	 * Only a session that used an unlock pays for the check at commit: the
	 * callback is registered at the first use and stays (before
	 * PostgreSQL 18 a callback must not unregister itself while called).
	 */
	if (!commit_check_registered)
	{
		RegisterXactCallback(check_unlocks_at_commit, NULL);
		commit_check_registered = true;
	}
	/* a cascade over many tables uses one unlock many times: keep it once */
	foreach(lc, tokens_used_in_transaction)
	{
		if (strcmp((const char *) lfirst(lc), unlock_id) == 0)
			break;
	}
	if (lc == NULL)
		tokens_used_in_transaction = lappend(tokens_used_in_transaction,
											 pstrdup(unlock_id));
	MemoryContextSwitchTo(oldcontext);
}

/* An approval is used once: forget it.  A token is left as it is. */
void
tfguard_session_unlock_consume(const char *unlock_id)
{
	UnlockEntry unlock;

	if (tfguard_unlock_store_get(unlock_id, &unlock) && unlock.approves != 0)
		tfguard_unlock_store_forget(unlock_id);
}

/* The transaction is over: its unlocks are forgotten. */
static void
forget_unlocks_used(void)
{
	tokens_used_in_transaction = NIL;
}

static void
check_unlocks_at_commit(XactEvent event, void *arg)
{
	ListCell   *lc;

	/* a transaction that used no unlock */
	if (tokens_used_in_transaction == NIL)
		return;

	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			/* COMMIT PREPARED could come after expiry, revocation, restart */
			tfguard_session_unlock_refuse_prepare();
			break;
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			foreach(lc, tokens_used_in_transaction)
			{
				const char *id = lfirst(lc);
				UnlockEntry unlock;
				const char *reason;

				reason = tfguard_unlock_store_get(id, &unlock) ?
					tfguard_unlock_unusable_reason(&unlock) : "it is no longer valid";
				if (reason != NULL)
				{
					forget_unlocks_used();
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
			/* an approval is used once: the transaction that used it committed */
			foreach(lc, tokens_used_in_transaction)
				tfguard_session_unlock_consume((const char *) lfirst(lc));
			forget_unlocks_used();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			forget_unlocks_used();
			break;
	}
}

/*
 * Was a request of this role about the attempt's object denied lately?
 * Then the sentence that says so, for the refusal's DETAIL; else NULL.
 */
char *
tfguard_session_denial(const GuardedAttempt *attempt)
{
	UnlockEntry denial;

	if (!tfguard_unlock_store_ready() || !OidIsValid(attempt->object_id) ||
		!tfguard_unlock_store_find_denial(GetSessionUserId(), MyDatabaseId,
										  attempt->object_id, &denial))
		return NULL;
	return denial.reason[0] ?
		psprintf(_("A human denied this request before (audit id " INT64_FORMAT "): %s."),
				 denial.approves, denial.reason) :
		psprintf(_("A human denied this request before (audit id " INT64_FORMAT ")."),
				 denial.approves);
}

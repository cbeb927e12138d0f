/*-------------------------------------------------------------------------
 *
 * session_unlock.h
 *	  This session's token and approvals (session_unlock.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_SESSION_UNLOCK_H
#define TFGUARD_SESSION_UNLOCK_H

#include "nodes/parsenodes.h"
#include "utils/guc.h"

#include "tfguard.h"

/* tfguard.token's hooks, and the ProcessUtility hook's calls around SET */
extern void tfguard_session_unlock_refuse_prepare(void);
extern bool tfguard_check_token(char **newval, void **extra, GucSource source);
extern void tfguard_assign_token(const char *newval, void *extra);
extern void tfguard_session_unlock_before_set(VariableSetStmt *stmt);
extern void tfguard_session_unlock_after_set(void);
extern char *tfguard_session_token_id(void);
extern void tfguard_session_unlock_end(const char *held_before);

/* the decision point's questions */
extern bool tfguard_session_unlock_covers(const GuardedAttempt *attempt,
										  const char **unlock_id,
										  int64 *approval_of,
										  const char **why_not);
extern void tfguard_session_unlock_note_use(const char *unlock_id);
extern void tfguard_session_unlock_consume(const char *unlock_id);
extern char *tfguard_session_denial(const GuardedAttempt *attempt);

/* tfguard.approval */
extern int	tfguard_approval_setting;
extern bool tfguard_check_approval(int *newval, void **extra, GucSource source);
extern void tfguard_assign_approval(int newval, void *extra);

#endif							/* TFGUARD_SESSION_UNLOCK_H */

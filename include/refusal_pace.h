/*-------------------------------------------------------------------------
 *
 * refusal_pace.h
 *	  Slowing down clients that loop on a refusal (refusal_pace.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_REFUSAL_PACE_H
#define TFGUARD_REFUSAL_PACE_H

#include "datatype/timestamp.h"

#include "tfguard.h"

typedef struct RefusalPace
{
	int			repeats;		/* of the role's same refusal, each within a
								 * minute of the last; 0 for a first */
	int			role_refusals;	/* the role's refusals in the window, this one
								 * included */
	int			waited_ms;		/* the session waited before this statement */
	int			next_delay_ms;	/* it waits before its next one */
	int			statement_refusals; /* of this top-level statement, this one
									 * included */
} RefusalPace;

/* more refusals than this in one top-level statement, or one transaction,
 * end the session */
#define PACE_STATEMENT_REFUSALS 20

extern bool tfguard_refusal_pace;	/* tfguard.refusal_pace */

/* shared memory (shmem.c) */
extern Size tfguard_pace_shmem_size(void);
extern void tfguard_pace_shmem_attach(void);

/* the decision point, for each refusal it raises */
extern void tfguard_pace_refusal(GuardedOperation operation, Oid object_id,
								 const char *object_name, RefusalPace *pace);
extern char *tfguard_pace_detail(const RefusalPace *pace);

/* the hooks, at the start of each statement */
extern bool tfguard_pace_roles_paced(void);
extern void tfguard_pace_wait(const char *source_text);

/* May a wait be due before this statement?  One read of shared memory. */
static inline bool
tfguard_pace_due(void)
{
	return unlikely(tfguard_pace_roles_paced());
}

#endif							/* TFGUARD_REFUSAL_PACE_H */

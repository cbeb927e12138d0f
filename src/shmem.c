/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  tfguard's shared memory, requested and attached in one place: the
 *	  audit queue (audit.c), the unlock table (unlock_store.c), the
 *	  removal window (removal_window.c), the standing rules
 *	  (standing_rule.c) and the refusal pace (refusal_pace.c), each under
 *	  its own LWLock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "audit.h"
#include "refusal_pace.h"
#include "removal_window.h"
#include "shmem.h"
#include "standing_rule.h"
#include "unlock_store.h"

static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;

static void
request_shared_memory(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(add_size(add_size(add_size(tfguard_audit_shmem_size(),
													  tfguard_unlock_store_shmem_size()),
											 tfguard_window_shmem_size()),
									add_size(tfguard_rules_shmem_size(),
											 tfguard_pace_shmem_size())));
	RequestNamedLWLockTranche("tfguard", 1);
	RequestNamedLWLockTranche("tfguard tokens", 1);
	RequestNamedLWLockTranche("tfguard removal window", 1);
	RequestNamedLWLockTranche("tfguard rules", 1);
	RequestNamedLWLockTranche("tfguard refusal pace", 1);
}

static void
attach_shared_memory(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	tfguard_audit_shmem_attach();
	tfguard_unlock_store_shmem_attach();
	tfguard_window_shmem_attach();
	tfguard_rules_shmem_attach();
	tfguard_pace_shmem_attach();
	LWLockRelease(AddinShmemInitLock);
}

/* Called from _PG_init while shared_preload_libraries is processed. */
void
tfguard_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = request_shared_memory;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = attach_shared_memory;
}

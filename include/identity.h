/*-------------------------------------------------------------------------
 *
 * identity.h
 *	  Which object an unlock is about, in terms a rename cannot fake
 *	  (identity.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_IDENTITY_H
#define TFGUARD_IDENTITY_H

#include "tfguard.h"

extern TransactionId tfguard_object_stamp(const GuardedAttempt *attempt);
extern bool tfguard_object_written_since(const GuardedAttempt *attempt,
										 TransactionId since);
extern bool tfguard_object_is(const GuardedAttempt *attempt, Oid object_id,
							  TransactionId stamp);

#endif							/* TFGUARD_IDENTITY_H */

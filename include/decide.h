/*-------------------------------------------------------------------------
 *
 * decide.h
 *	  The one place that allows, warns about or refuses an attempt
 *	  (decide.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_DECIDE_H
#define TFGUARD_DECIDE_H

#include "tfguard.h"

extern void tfguard_decide(const GuardedAttempt *attempt);

#endif							/* TFGUARD_DECIDE_H */

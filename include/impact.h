/*-------------------------------------------------------------------------
 *
 * impact.h
 *	  What a refused attempt would destroy, for the human deciding
 *	  (impact.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_IMPACT_H
#define TFGUARD_IMPACT_H

#include "tfguard.h"

extern char *tfguard_impact(const GuardedAttempt *attempt);

#endif							/* TFGUARD_IMPACT_H */

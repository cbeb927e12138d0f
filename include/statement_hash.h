/*-------------------------------------------------------------------------
 *
 * statement_hash.h
 *	  The hash of the client's statement (statement_hash.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_STATEMENT_HASH_H
#define TFGUARD_STATEMENT_HASH_H

#include "tfguard.h"

/* Fills hash (TFGUARD_STATEMENT_HASH_LEN bytes). */
extern void tfguard_statement_hash(char *hash);

#endif							/* TFGUARD_STATEMENT_HASH_H */

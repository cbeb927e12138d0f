/*-------------------------------------------------------------------------
 *
 * operation.h
 *	  The names of the guarded operations (operation.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_OPERATION_H
#define TFGUARD_OPERATION_H

#include "tfguard.h"

extern const char *tfguard_operation_name(GuardedOperation operation);
extern bool tfguard_parse_operation(const char *name, GuardedOperation *operation);
extern char *tfguard_operations_text(uint32 operations);

#endif							/* TFGUARD_OPERATION_H */

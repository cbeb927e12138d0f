/*-------------------------------------------------------------------------
 *
 * transaction_list.h
 *	  A list that lives as long as the current transaction.
 *
 * Kept in TopTransactionContext, it is forgotten when that memory goes
 * (commit, abort, PREPARE), by a callback on the context registered when
 * the transaction first adds to it: a transaction that never does pays
 * nothing, unlike a transaction callback, which every transaction calls.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_TRANSACTION_LIST_H
#define TFGUARD_TRANSACTION_LIST_H

#include "nodes/pg_list.h"
#include "utils/memutils.h"

typedef struct TransactionList
{
	List	   *list;			/* NIL outside a transaction that added */
	bool		armed;			/* the forgetting callback is registered */
	MemoryContextCallback callback;
} TransactionList;

static inline void
transaction_list_forget(void *arg)
{
	TransactionList *tl = (TransactionList *) arg;

	tl->list = NIL;
	tl->armed = false;
}

/* Switch to the memory the list lives in; returns the previous context. */
static inline MemoryContext
transaction_list_switch_to(TransactionList *tl)
{
	if (!tl->armed)
	{
		tl->list = NIL;
		tl->callback.func = transaction_list_forget;
		tl->callback.arg = tl;
		MemoryContextRegisterResetCallback(TopTransactionContext, &tl->callback);
		tl->armed = true;
	}
	return MemoryContextSwitchTo(TopTransactionContext);
}

#endif							/* TFGUARD_TRANSACTION_LIST_H */

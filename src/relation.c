/*-------------------------------------------------------------------------
 *
 * relation.c
 *	  Which relations hold data that an irreversible operation would lose.
 *
 * Both classifiers ask the same question about a relation ("is removing,
 * truncating or emptying this one guarded?"), so the answer lives here:
 * tables, partitioned tables, partitions and materialized views are
 * guarded; temporary relations and relations created in the current
 * transaction are not, because nothing that outlives the transaction is
 * lost with them (except by a TRUNCATE, or a DELETE or UPDATE without an
 * effective WHERE, that logical replication publishes: a subscriber
 * applies it to its own table of that name).  Indexes, views, sequences, TOAST tables and foreign
 * tables (whose data lives on another server) are not guarded either.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/relation.h"
#include "catalog/pg_class.h"
#include "catalog/pg_publication.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/relcache.h"

#include "relation.h"
#include "transaction_list.h"

/*
 * Relations created by the current transaction, as told by the object
 * access hook's OAT_POST_CREATE.  The relcache's rd_createSubid cannot
 * answer this: a table rewrite (VACUUM FULL, CLUSTER, ALTER COLUMN TYPE,
 * REFRESH MATERIALIZED VIEW) swaps storage with a transient heap and hands
 * the old table's "not new" status to the transient one, which it then
 * drops.  Kept in TopTransactionContext and forgotten at transaction end.
 */
static TransactionList created_in_transaction;

void
tfguard_note_relation_created(Oid relid)
{
	MemoryContext oldcontext = transaction_list_switch_to(&created_in_transaction);

	created_in_transaction.list = lappend_oid(created_in_transaction.list, relid);
	MemoryContextSwitchTo(oldcontext);
}

/*
 * Called before an UPDATE (or MERGE) runs: it may move rows of an old
 * partition into a partition this transaction created, and dropping that
 * partition would then lose them.  From here to the end of the
 * transaction, new partitions are guarded like old tables.
 */
void
tfguard_new_partitions_may_hold_old_rows(void)
{
	List	   *still_new = NIL;
	ListCell   *lc;
	MemoryContext oldcontext;

	if (created_in_transaction.list == NIL)
		return;
	oldcontext = transaction_list_switch_to(&created_in_transaction);
	foreach(lc, created_in_transaction.list)
	{
		Oid			relid = lfirst_oid(lc);

		if (!get_rel_relispartition(relid))
			still_new = lappend_oid(still_new, relid);
	}
	MemoryContextSwitchTo(oldcontext);
	created_in_transaction.list = still_new;
}

/*
 * Will a TRUNCATE, or a DELETE or UPDATE of every row, of this table be
 * published?  Logical replication applies it by name: a subscriber's
 * table of the same name loses its rows, even when the publisher's table
 * is one this transaction just created (and named as an old one it
 * renamed away), whose rows the subscriber may never have been sent.
 */
static bool
change_is_published(Oid relid, GuardedOperation operation)
{
	Relation	rel;
	PublicationDesc pubdesc;

	if (operation != GUARDED_TRUNCATE && operation != GUARDED_DELETE_ALL &&
		operation != GUARDED_UPDATE_ALL)
		return false;
	rel = relation_open(relid, NoLock);
	RelationBuildPublicationDesc(rel, &pubdesc);
	relation_close(rel, NoLock);
	switch (operation)
	{
		case GUARDED_TRUNCATE:
			return pubdesc.pubactions.pubtruncate;
		case GUARDED_DELETE_ALL:
			return pubdesc.pubactions.pubdelete;
		default:
			return pubdesc.pubactions.pubupdate;
	}
}

static GuardedObjectKind
relkind_object_kind(char relkind)
{
	switch (relkind)
	{
		case RELKIND_PARTITIONED_TABLE:
			return OBJECT_KIND_PARTITIONED_TABLE;
		case RELKIND_MATVIEW:
			return OBJECT_KIND_MATVIEW;
		default:
			return OBJECT_KIND_TABLE;
	}
}

/*
 * Is "operation" on relation "relid" guarded?  If so, fill in "attempt"
 * and return true.  An operation tfguard.guarded leaves out is guarded on
 * nothing, and costs no lookup.  TRUNCATE cannot reach a materialized
 * view, so only DROP considers them.
 */
bool
tfguard_relation_is_guarded(Oid relid, GuardedOperation operation,
							GuardedAttempt *attempt)
{
	char		relkind;
	char	   *relname;
	char	   *nspname;

	if (!tfguard_operation_guarded(operation))
		return false;
	relkind = get_rel_relkind(relid);
	switch (relkind)
	{
		case RELKIND_RELATION:
		case RELKIND_PARTITIONED_TABLE:
			break;
		case RELKIND_MATVIEW:
			/* dropped, or emptied by REFRESH (TRUNCATE cannot reach it) */
			if (operation != GUARDED_DROP_TABLE && operation != GUARDED_TRUNCATE)
				return false;
			break;
		default:
			return false;
	}

	if (get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
		return false;
	if (list_member_oid(created_in_transaction.list, relid) &&
		!change_is_published(relid, operation))
		return false;

	relname = get_rel_name(relid);
	nspname = get_namespace_name(get_rel_namespace(relid));
	if (relname == NULL || nspname == NULL)
		return false;			/* concurrently dropped: nothing to lose */

	attempt->operation = operation;
	attempt->object_kind = relkind_object_kind(relkind);
	/* quoted where needed: "a.b".c and a."b.c" must not read alike */
	attempt->object_name = quote_qualified_identifier(nspname, relname);
	attempt->object_class = RelationRelationId;
	attempt->object_id = relid;
	return true;
}

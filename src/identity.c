/*-------------------------------------------------------------------------
 *
 * identity.c
 *	  Which object an unlock is about, in terms a rename cannot fake.
 *
 * Names are for people.  An approval binds to the object the refused
 * attempt was about (its OID) and to the version of the catalog row that
 * defined it when it was refused; a token, issued by name in the home
 * database for objects that may live in another, refuses any object whose
 * catalog row (or its schema's) was written after the token was issued.
 * Both read the row's raw xmin: VACUUM FREEZE marks a row frozen but keeps
 * the transaction id that wrote it, so freezing cannot make a renamed
 * table look old (HeapTupleHeaderGetXmin would answer FrozenTransactionId).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_namespace.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "identity.h"

/*
 * The raw xmin of the version of a catalog row (pg_class, pg_database or
 * pg_namespace, by OID) that the statement sees: read with the
 * statement's snapshot, not the syscache's newest version, because the
 * statement itself may have written the row before asking (a DROP removes
 * a table's CHECK constraints, rewriting its pg_class row, before the
 * table).  InvalidTransactionId if the row is not there.  For pg_class,
 * *nspid is set to the relation's schema.
 */
static TransactionId
row_xmin(Oid catalog, Oid index, Oid oid, Oid *nspid)
{
	Relation	rel = table_open(catalog, AccessShareLock);
	Snapshot	snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : NULL;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	TransactionId xmin = InvalidTransactionId;

	Assert(nspid == NULL || catalog == RelationRelationId);
	ScanKeyInit(&key, 1 /* the OID column of each of these catalogs */ ,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(oid));
	scan = systable_beginscan(rel, index, true, snapshot, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		xmin = HeapTupleHeaderGetRawXmin(tuple->t_data);
		if (nspid != NULL)
			*nspid = ((Form_pg_class) GETSTRUCT(tuple))->relnamespace;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return xmin;
}

TransactionId
tfguard_object_stamp(const GuardedAttempt *attempt)
{
	if (!OidIsValid(attempt->object_id))
		return InvalidTransactionId;
	if (attempt->object_class == DatabaseRelationId)
		return row_xmin(DatabaseRelationId, DatabaseOidIndexId, attempt->object_id, NULL);
	if (attempt->object_class == RelationRelationId)
		return row_xmin(RelationRelationId, ClassOidIndexId, attempt->object_id, NULL);
	return InvalidTransactionId;
}

/*
 * Was a row with this raw xmin written at or after "since" (or by this
 * transaction)?  A frozen row's raw xmin may be older than the xid
 * horizon, where modulo-2^32 comparisons mean nothing; only an xid between
 * "since" and the next xid counts as written since, and that window spans
 * at most an unlock's lifetime.
 */
static bool
xmin_written_since(TransactionId xmin, TransactionId since)
{
	if (!TransactionIdIsValid(xmin))
		return true;			/* gone, or no row: nothing to trust */
	if (!TransactionIdIsNormal(xmin))
		return false;			/* bootstrap rows */
	if (TransactionIdIsCurrentTransactionId(xmin))
		return true;
	return TransactionIdFollowsOrEquals(xmin, since) &&
		TransactionIdPrecedes(xmin, ReadNextTransactionId());
}

/*
 * Was the attempt's object renamed, moved, replaced or otherwise altered
 * since "since" (an xid horizon taken when the token was issued)?  The
 * name the token holds reaches another object only if some relation's
 * pg_class row, or some schema's pg_namespace row, or the database's row
 * was written since: a rename, a move, a new table, a new schema.
 */
bool
tfguard_object_written_since(const GuardedAttempt *attempt, TransactionId since)
{
	Oid			nspid = InvalidOid;

	if (!OidIsValid(attempt->object_id))
		return false;
	if (attempt->object_class == DatabaseRelationId)
		return xmin_written_since(row_xmin(DatabaseRelationId, DatabaseOidIndexId,
										   attempt->object_id, NULL),
								  since);
	if (xmin_written_since(row_xmin(RelationRelationId, ClassOidIndexId,
									attempt->object_id, &nspid),
						   since))
		return true;
	return xmin_written_since(row_xmin(NamespaceRelationId, NamespaceOidIndexId,
									   nspid, NULL),
							  since);
}

/*
 * Is the attempt's object the very one recorded when it was refused: the
 * same OID, and the same version of its catalog row?
 */
bool
tfguard_object_is(const GuardedAttempt *attempt, Oid object_id,
				  TransactionId stamp)
{
	return OidIsValid(object_id) && attempt->object_id == object_id &&
		TransactionIdIsValid(stamp) && tfguard_object_stamp(attempt) == stamp;
}

/*-------------------------------------------------------------------------
 *
 * impact.c
 *	  What a refused attempt would have destroyed, in words for the human
 *	  who decides whether to approve it.
 *
 * Computed in the refusing backend, which is connected to the database the
 * object lives in (the home database, where the human looks, may be
 * another), and stored with the audit record: estimated rows and size of
 * the table and its partitions, the database's size, and for a dropped
 * table what the same statement was removing with it (a CASCADE removes
 * the dependents first, so by the time the table is refused they are the
 * objects already on their way out).  Only refusals pay for it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/syscache.h"

#include "dropped.h"
#include "impact.h"

/* Call a size function; false if it returned NULL (object gone). */
static bool
size_of(PGFunction function, Oid oid, int64 *size)
{
	LOCAL_FCINFO(fcinfo, 1);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(oid);
	fcinfo->args[0].isnull = false;
	result = function(fcinfo);
	if (fcinfo->isnull)
		return false;
	*size = DatumGetInt64(result);
	return true;
}

static char *
pretty_size(int64 size)
{
	return text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
															  Int64GetDatum(size))));
}

/*
 * Estimated rows and size of a table with all its partitions or children,
 * from the statistics in pg_class: no file is opened, which matters while a
 * DROP is removing the table's TOAST table and indexes around us.
 */
static void
append_table_size(StringInfo out, Oid relid)
{
	List	   *relids = find_all_inheritors(relid, NoLock, NULL);
	ListCell   *lc;
	double		rows = 0;
	bool		rows_known = true;
	int64		pages = 0;

	foreach(lc, relids)
	{
		HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_class form;

		if (!HeapTupleIsValid(tuple))
			continue;
		form = (Form_pg_class) GETSTRUCT(tuple);
		if (form->relkind != RELKIND_PARTITIONED_TABLE)
		{
			if (form->reltuples < 0)
				rows_known = false;
			else
				rows += form->reltuples;
			pages += form->relpages;
		}
		ReleaseSysCache(tuple);
	}
	if (rows_known)
		appendStringInfo(out, "about %.0f rows, %s", rows, pretty_size(pages * BLCKSZ));
	else
		appendStringInfoString(out, "size unknown (never vacuumed or analyzed)");
	if (list_length(relids) > 1)
		appendStringInfo(out, " in %d tables (with partitions or children)",
						 list_length(relids));
}

char *
tfguard_impact(const GuardedAttempt *attempt)
{
	StringInfoData out;
	int64		size;

	if (!OidIsValid(attempt->object_id))
		return NULL;
	initStringInfo(&out);
	switch (attempt->operation)
	{
		case GUARDED_DROP_DATABASE:
			/* the size functions refuse roles without CONNECT */
			if ((pg_database_aclcheck(attempt->object_id, GetUserId(), ACL_CONNECT) == ACLCHECK_OK ||
				 has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS)) &&
				size_of(pg_database_size_oid, attempt->object_id, &size))
				appendStringInfo(&out, "database of %s", pretty_size(size));
			break;
		case GUARDED_DROP_TABLE:
			append_table_size(&out, attempt->object_id);
			tfguard_append_dropped_so_far(&out);
			break;
		case GUARDED_TRUNCATE:
		case GUARDED_DELETE_ALL:
		case GUARDED_UPDATE_ALL:
			append_table_size(&out, attempt->object_id);
			break;
		case GUARDED_MASS_DELETE:
		case GUARDED_MASS_UPDATE:
			/* exact counts, not the statistics' estimate */
			if (attempt->rows_changed >= 0)
				appendStringInfo(&out, INT64_FORMAT " of " INT64_FORMAT " rows removed or overwritten",
								 attempt->rows_changed, attempt->rows_held);
			break;
		case GUARDED_DROP_COLUMN:
			appendStringInfo(&out, "column %s; ", quote_identifier(attempt->column_name));
			append_table_size(&out, attempt->object_id);
			break;
		case GUARDED_RECONFIGURE:
		case GUARDED_BREAK_RECOVERY:
			break;
	}
	return out.len > 0 ? out.data : NULL;
}

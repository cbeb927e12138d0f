/* tfguard--1.0--1.1.sql: ALTER EXTENSION tfguard UPDATE from 1.0 */

\echo Use "ALTER EXTENSION tfguard UPDATE" to load this file. \quit

/*
 * The audit writer numbers the rows itself: a sequence was one more object
 * a superuser could reset (setval) to make every later record fail.
 */
ALTER TABLE tfguard.audit_log ALTER COLUMN id DROP IDENTITY;

/*
 * What an approval binds to, never the name: the refused object's OID,
 * the database the attempt was made in, and the raw xmin of the object's
 * catalog row at the refusal.  Rows recorded by 1.0 have none, and cannot
 * be approved (the agent tries again).
 */
ALTER TABLE tfguard.audit_log
	ADD COLUMN object_oid oid,
	ADD COLUMN database_oid oid,
	ADD COLUMN object_xmin xid;

/* revoke_token(NULL) is an error, not a silent NULL */
ALTER FUNCTION tfguard.revoke_token(text) CALLED ON NULL INPUT;

/* the operations 1.1 adds await a decision like the others */
CREATE OR REPLACE VIEW tfguard.pending AS
	SELECT a.id AS audit_id, a.logged_at, a.session_role AS role, a.database_name,
		   a.operation, a.object_name, a.impact, a.statement, a.application_name,
		   a.client_addr, a.backend_pid, s.pid IS NOT NULL AS session_live
	  FROM tfguard.audit_log a
	  LEFT JOIN tfguard.live_sessions() s
		ON s.pid = a.backend_pid AND s.backend_start = a.backend_start
	 WHERE a.decision = 'blocked'
	   -- awaits a decision for tfguard.max_ttl; approved after its session
	   -- ended, a new session of the role claims it (SET tfguard.approval)
	   AND a.logged_at > now() - current_setting('tfguard.max_ttl')::interval
	   AND a.operation IN ('drop_database', 'drop_table', 'truncate', 'delete_all', 'update_all',
						   'mass_delete', 'mass_update', 'drop_column', 'reconfigure')
	   -- the further objects of a statement refused once are decided with it
	   AND a.refers_to IS NULL
	   AND NOT EXISTS (SELECT 1 FROM tfguard.audit_log d
						WHERE d.refers_to = a.id AND d.operation IN ('approve', 'deny'))
	 ORDER BY a.id DESC;
COMMENT ON VIEW tfguard.pending IS
	'tfguard: refused attempts of the last tfguard.max_ttl awaiting a human''s approve() or deny(), newest first';

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
						   'mass_delete', 'mass_update', 'drop_column', 'break_recovery', 'reconfigure')
	   -- the further objects of a statement refused once are decided with it
	   AND a.refers_to IS NULL
	   AND NOT EXISTS (SELECT 1 FROM tfguard.audit_log d
						WHERE d.refers_to = a.id AND d.operation IN ('approve', 'deny'))
	 ORDER BY a.id DESC;
COMMENT ON VIEW tfguard.pending IS
	'tfguard: refused attempts of the last tfguard.max_ttl awaiting a human''s approve() or deny(), newest first';

/*
 * For the agent: its own refused attempts and what became of them, with
 * the human's reason.  Any role may call it and sees only the requests of
 * the role it logged in as.
 */
CREATE FUNCTION tfguard.my_requests(
	OUT audit_id bigint, OUT logged_at timestamptz, OUT database_name name,
	OUT operation text, OUT object_name text, OUT statement text,
	OUT status text, OUT decided_by name, OUT decided_at timestamptz,
	OUT decision_detail text)
RETURNS SETOF record
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT a.id, a.logged_at, a.database_name, a.operation, a.object_name, a.statement,
		   CASE WHEN d.operation = 'deny' THEN 'denied'
				WHEN d.operation = 'approve' THEN 'approved'
				WHEN a.logged_at <= now() - current_setting('tfguard.max_ttl')::interval THEN 'expired'
				ELSE 'pending' END,
		   d.session_role, d.logged_at, d.detail
	  FROM tfguard.audit_log a
	  LEFT JOIN LATERAL (SELECT x.operation, x.session_role, x.logged_at, x.detail
						   FROM tfguard.audit_log x
						  WHERE x.refers_to = a.id AND x.operation IN ('approve', 'deny')
						  ORDER BY x.id DESC LIMIT 1) d ON true
	 WHERE a.session_role = session_user
	   AND a.decision = 'blocked'
	   AND a.refers_to IS NULL
	   AND a.operation IN ('drop_database', 'drop_table', 'truncate', 'delete_all', 'update_all',
						   'mass_delete', 'mass_update', 'drop_column', 'break_recovery', 'reconfigure')
	 ORDER BY a.id DESC
$$;
COMMENT ON FUNCTION tfguard.my_requests() IS
	'tfguard: the calling role''s refused attempts: pending, approved, denied or expired, with who decided and why';
REVOKE ALL ON FUNCTION tfguard.my_requests() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tfguard.my_requests() TO PUBLIC;
GRANT USAGE ON SCHEMA tfguard TO PUBLIC;

/*
 * Standing rules: a human's decision, made once, that a named job role
 * (pg_repack's, pg_partman's) may run some guarded operations on some
 * tables without asking each time.  Kept here so that they survive
 * restarts and reach standbys; written only by add_rule() and drop_rule()
 * (any other change to this table is reconfigure); read into shared
 * memory by the audit writer at its start and kept there by those two
 * functions, so no guarded attempt reads this table.
 */
CREATE TABLE tfguard.rule_store (
	id bigint NOT NULL,
	role_oid oid NOT NULL,		-- bound to the role, not its name
	database_oid oid,			-- NULL: every database
	operations text[] NOT NULL,
	objects text[] NOT NULL,	-- 'schema.table' (and its partitions) or 'schema.*'
	max_rows bigint,			-- NULL: no cap
	created_by name NOT NULL,
	created_at timestamptz NOT NULL,
	expires timestamptz,		-- NULL: until dropped
	reason text NOT NULL
);
REVOKE ALL ON tfguard.rule_store FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('tfguard.rule_store', '');

CREATE FUNCTION tfguard.add_rule(role name, operations text[], objects text[],
								 max_rows bigint DEFAULT NULL,
								 expires timestamptz DEFAULT NULL,
								 reason text DEFAULT NULL,
								 database name DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'tfguard_add_rule'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tfguard.add_rule(name, text[], text[], bigint, timestamptz, text, name) IS
	'tfguard: let a job role run guarded operations on named tables without asking each time; returns the rule''s id';

CREATE FUNCTION tfguard.drop_rule(rule_id bigint, reason text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'tfguard_drop_rule'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tfguard.drop_rule(bigint, text) IS
	'tfguard: end a standing rule';

CREATE VIEW tfguard.rules AS
	SELECT r.id, coalesce(ro.rolname::text, '(dropped role ' || r.role_oid || ')') AS role,
		   d.datname AS database, r.operations, r.objects, r.max_rows,
		   r.created_by, r.created_at, r.expires, r.reason,
		   (r.expires IS NULL OR r.expires > now()) AS live
	  FROM tfguard.rule_store r
	  LEFT JOIN pg_catalog.pg_roles ro ON ro.oid = r.role_oid
	  LEFT JOIN pg_catalog.pg_database d ON d.oid = r.database_oid
	 ORDER BY r.id;
COMMENT ON VIEW tfguard.rules IS
	'tfguard: standing rules; database NULL means every database';

REVOKE ALL ON FUNCTION tfguard.add_rule(name, text[], text[], bigint, timestamptz, text, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION tfguard.drop_rule(bigint, text) FROM PUBLIC;
REVOKE ALL ON tfguard.rules FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tfguard.add_rule(name, text[], text[], bigint, timestamptz, text, name) TO tfguard_admin;
GRANT EXECUTE ON FUNCTION tfguard.drop_rule(bigint, text) TO tfguard_admin;
GRANT SELECT ON tfguard.rules TO tfguard_admin;

/*
 * For status displays: a token or approval pinned to a session that ended
 * can never unlock again, so it is not live; whether the writer comes
 * round (heartbeat) and how long records wait for it.
 */
CREATE OR REPLACE VIEW tfguard.tokens AS
	SELECT t.*, NOT t.revoked AND t.expires_at > now()
		   AND (t.pinned_pid IS NULL
				OR EXISTS (SELECT FROM tfguard.live_sessions() s
						   WHERE s.pid = t.pinned_pid AND s.backend_start = t.pinned_backend_start)) AS live
	  FROM tfguard.token_list() t;
CREATE FUNCTION tfguard.writer_status(OUT pid int, OUT last_heartbeat timestamptz,
									  OUT queue_depth int, OUT oldest_queued timestamptz)
AS 'MODULE_PATHNAME', 'tfguard_writer_status'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION tfguard.writer_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tfguard.writer_status() TO tfguard_admin;

/*
 * Retention: removing the trail's rows older than a date is a change to
 * tfguard itself.  prune_audit() runs its DELETE through the guard, so it
 * needs a token for reconfigure naming tfguard.audit_log from another
 * administrator, keeps the rows of the last tfguard.max_ttl, and records
 * what it removed.
 */
CREATE FUNCTION tfguard.prune_audit(before timestamptz, reason text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'tfguard_prune_audit'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tfguard.prune_audit(timestamptz, text) IS
	'tfguard: remove the audit trail''s rows logged before a date (needs a reconfigure token naming tfguard.audit_log); returns how many';
REVOKE ALL ON FUNCTION tfguard.prune_audit(timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tfguard.prune_audit(timestamptz, text) TO tfguard_admin;

/* tfguard--1.0.sql: schema tfguard and role tfguard_admin */

\echo Use "CREATE EXTENSION tfguard" to load this file. \quit

/*
 * Refuse to install where the guard cannot work: without the preload, or
 * outside the home database (tfguard.database).  The check function lives
 * in pg_catalog, the extension's schema, only while the script runs.
 */
CREATE FUNCTION tfguard_assert_installable() RETURNS void
	AS 'MODULE_PATHNAME', 'tfguard_assert_installable'
	LANGUAGE C STRICT;
SELECT tfguard_assert_installable();
DROP FUNCTION tfguard_assert_installable();

CREATE SCHEMA tfguard;
COMMENT ON SCHEMA tfguard IS 'tfguard: audit trail and admin functions';
REVOKE ALL ON SCHEMA tfguard FROM PUBLIC;

/*
 * Humans who unlock are members of tfguard_admin.  Roles are cluster-wide
 * and outlive the extension, so an existing one is kept as it is.
 */
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'tfguard_admin') THEN
		CREATE ROLE tfguard_admin NOLOGIN;
	END IF;
END
$$;
GRANT USAGE ON SCHEMA tfguard TO tfguard_admin;

/*
 * The audit trail: one row per attempt at a guarded operation.  Only the
 * tfguard audit writer (a background worker) inserts; tfguard refuses
 * every other INSERT, UPDATE, DELETE, MERGE, COPY FROM and TRUNCATE on it,
 * for every role, and DROP EXTENSION tfguard.  The column "current_role"
 * must be quoted in queries: unquoted, current_role is the SQL function.
 */
CREATE TABLE tfguard.audit_log (
	id bigint PRIMARY KEY,		-- numbered by the writer: no sequence to reset
	logged_at timestamptz NOT NULL,
	database_name text NOT NULL,
	session_role text NOT NULL,
	"current_role" text NOT NULL,
	client_addr inet,
	application_name text,
	backend_pid int NOT NULL,
	operation text NOT NULL,
	object_name text,
	statement text,
	decision text NOT NULL,
	token_id text,
	detail text,
	backend_start timestamptz,	-- with backend_pid, names the session
	refers_to bigint,			-- approve, deny, and uses of an approval: the request's id
	impact text,				-- a refused attempt: what it would have destroyed
	-- what an approval binds to (never the name): the refused object's OID,
	-- the database the attempt was made in, and the raw xmin of the
	-- object's catalog row at the refusal
	object_oid oid,
	database_oid oid,
	object_xmin xid
);
COMMENT ON TABLE tfguard.audit_log IS
	'tfguard: every attempt at a guarded operation, committed before the client heard the outcome';
-- rows arrive in time order: a BRIN index serves "since" queries for almost nothing
CREATE INDEX audit_log_logged_at ON tfguard.audit_log USING brin (logged_at);
REVOKE ALL ON tfguard.audit_log FROM PUBLIC;
GRANT SELECT ON tfguard.audit_log TO tfguard_admin;
-- pg_dump of the home database keeps the trail
SELECT pg_catalog.pg_extension_config_dump('tfguard.audit_log', '');

/*
 * Unlock tokens.  Enforcement lives in C; these functions only reach it.
 * Each checks that its caller is a superuser or a member of tfguard_admin,
 * and pins search_path.
 */
CREATE FUNCTION tfguard.issue_token(
	role name,
	operations text[],
	objects text[] DEFAULT NULL,
	ttl interval DEFAULT '15 minutes',
	database name DEFAULT NULL,
	reason text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'tfguard_issue_token'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tfguard.issue_token(name, text[], text[], interval, name, text) IS
	'tfguard: issue an unlock token for another role; returns the secret, which is stored nowhere';

CREATE FUNCTION tfguard.revoke_token(token_id text) RETURNS void
AS 'MODULE_PATHNAME', 'tfguard_revoke_token'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION tfguard.token_list(
	OUT id text, OUT role text, OUT operations text, OUT objects text,
	OUT database text, OUT issued_by text, OUT issued_at timestamptz,
	OUT expires_at timestamptz, OUT pinned_pid int, OUT pinned_backend_start timestamptz,
	OUT revoked bool, OUT reason text, OUT approves bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tfguard_token_list'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION tfguard.live_sessions(OUT pid int, OUT backend_start timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tfguard_live_sessions'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp;

/* live: can still unlock; one pinned to a session that ended never can */
CREATE VIEW tfguard.tokens AS
	SELECT t.*, NOT t.revoked AND t.expires_at > now()
		   AND (t.pinned_pid IS NULL
				OR EXISTS (SELECT FROM tfguard.live_sessions() s
						   WHERE s.pid = t.pinned_pid AND s.backend_start = t.pinned_backend_start)) AS live
	  FROM tfguard.token_list() t;
COMMENT ON VIEW tfguard.tokens IS
	'tfguard: unlocks in shared memory: tokens (never their secrets) and approvals (approves = the audit id approved); objects/database NULL means any';

REVOKE ALL ON FUNCTION tfguard.issue_token(name, text[], text[], interval, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tfguard.revoke_token(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tfguard.token_list() FROM PUBLIC;
REVOKE ALL ON tfguard.tokens FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tfguard.issue_token(name, text[], text[], interval, name, text) TO tfguard_admin;
GRANT EXECUTE ON FUNCTION tfguard.revoke_token(text) TO tfguard_admin;
GRANT EXECUTE ON FUNCTION tfguard.token_list() TO tfguard_admin;
GRANT SELECT ON tfguard.tokens TO tfguard_admin;

/*
 * Approvals: a human decides on a refused attempt by its audit id.
 */
CREATE INDEX audit_log_refers_to ON tfguard.audit_log (refers_to)
	WHERE refers_to IS NOT NULL;

CREATE FUNCTION tfguard.approve(audit_id bigint, ttl interval DEFAULT '15 minutes',
								reason text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'tfguard_approve'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tfguard.approve(bigint, interval, text) IS
	'tfguard: unlock a refused attempt''s operation on its object for the session that made it';

CREATE FUNCTION tfguard.deny(audit_id bigint, reason text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'tfguard_deny'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

/* refused attempts of the last tfguard.max_ttl that await a decision, newest first */
CREATE VIEW tfguard.pending AS
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

REVOKE ALL ON FUNCTION tfguard.approve(bigint, interval, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tfguard.deny(bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tfguard.live_sessions() FROM PUBLIC;
REVOKE ALL ON tfguard.pending FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tfguard.approve(bigint, interval, text) TO tfguard_admin;
GRANT EXECUTE ON FUNCTION tfguard.deny(bigint, text) TO tfguard_admin;
GRANT EXECUTE ON FUNCTION tfguard.live_sessions() TO tfguard_admin;
GRANT SELECT ON tfguard.pending TO tfguard_admin;

/* For status displays: the audit writer, and the records waiting for it. */
CREATE FUNCTION tfguard.queue_depth() RETURNS int
AS 'MODULE_PATHNAME', 'tfguard_queue_depth'
LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION tfguard.writer_pid() RETURNS int
AS 'MODULE_PATHNAME', 'tfguard_writer_pid'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION tfguard.queue_depth() FROM PUBLIC;
REVOKE ALL ON FUNCTION tfguard.writer_pid() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tfguard.queue_depth() TO tfguard_admin;
GRANT EXECUTE ON FUNCTION tfguard.writer_pid() TO tfguard_admin;
/* whether the writer comes round (heartbeat) and how long records wait for it */
CREATE FUNCTION tfguard.writer_status(OUT pid int, OUT last_heartbeat timestamptz,
									  OUT queue_depth int, OUT oldest_queued timestamptz)
AS 'MODULE_PATHNAME', 'tfguard_writer_status'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION tfguard.writer_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tfguard.writer_status() TO tfguard_admin;

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

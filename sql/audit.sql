--
-- The audit trail: every attempt the other suites made is in
-- tfguard.audit_log, committed although the refused transactions rolled
-- back; the trail is append-only for every role, superusers included.
--
\set VERBOSITY terse
\set refused '\\echo SQLSTATE :SQLSTATE'
SELECT current_user AS superuser \gset

-- what the suites before this one attempted, by whom
SELECT operation, decision, session_role = 'agent' AS by_agent, count(*)
  FROM tfguard.audit_log
 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
-- every row names a database, an object and the statement as sent
SELECT count(*) AS incomplete_rows FROM tfguard.audit_log
 WHERE database_name IS NULL OR object_name IS NULL OR statement IS NULL
    OR backend_pid IS NULL OR logged_at IS NULL;
-- ids follow the order of the attempts
SELECT count(*) AS out_of_order FROM (
	SELECT logged_at < lag(logged_at) OVER (ORDER BY id) AS earlier
	  FROM tfguard.audit_log) x WHERE earlier;

-- one attempt, in full, from a restricted role acting through SET ROLE,
-- inside a transaction that then rolls back
CREATE ROLE agent_helper NOLOGIN;
GRANT agent_helper TO agent;
\c - agent
\set VERBOSITY terse
\set refused '\\echo SQLSTATE :SQLSTATE'
SET application_name = 'agent-cli';
CREATE SCHEMA aud AUTHORIZATION agent_helper;
SET ROLE agent_helper;
CREATE TABLE aud.kept (id int);
INSERT INTO aud.kept VALUES (1);
RESET ROLE;
BEGIN;
SET LOCAL ROLE agent_helper;
DROP TABLE aud.kept;
:refused
ROLLBACK;
\c - :superuser
\set VERBOSITY terse
\set refused '\\echo SQLSTATE :SQLSTATE'
SELECT database_name, session_role, "current_role", client_addr,
	   application_name, operation, object_name, statement, decision,
	   token_id, detail, backend_pid <> pg_backend_pid() AS other_backend,
	   logged_at > now() - interval '1 minute' AS recent
  FROM tfguard.audit_log ORDER BY id DESC LIMIT 1;
SELECT count(*) AS kept_rows FROM aud.kept;

-- The trail is append-only, for a superuser too.  Each attempt is refused
-- as "reconfigure" (or truncate) and recorded.
SELECT count(*) AS rows_before FROM tfguard.audit_log \gset
UPDATE tfguard.audit_log SET decision = 'allowed';
:refused
DELETE FROM tfguard.audit_log WHERE id = 1;
:refused
DELETE FROM tfguard.audit_log;
:refused
INSERT INTO tfguard.audit_log (logged_at, database_name, session_role,
	"current_role", backend_pid, operation, decision)
	VALUES (now(), 'x', 'x', 'x', 0, 'drop_table', 'allowed');
:refused
MERGE INTO tfguard.audit_log a USING (SELECT 1) s ON true WHEN MATCHED THEN DELETE;
:refused
WITH gone AS (DELETE FROM tfguard.audit_log RETURNING id) SELECT count(*) FROM gone;
:refused
COPY tfguard.audit_log (logged_at, database_name, session_role, "current_role",
	backend_pid, operation, decision) FROM '/dev/null';
:refused
TRUNCATE tfguard.audit_log;
:refused
DROP TABLE tfguard.audit_log;
:refused
DROP SCHEMA tfguard CASCADE;
:refused
DROP EXTENSION tfguard;
:refused
DROP EXTENSION tfguard CASCADE;
:refused
ALTER TABLE tfguard.audit_log DROP COLUMN statement;
:refused
ALTER TABLE tfguard.audit_log ALTER COLUMN statement TYPE text USING NULL;
:refused
ALTER TABLE tfguard.audit_log RENAME TO old_log;
:refused
ALTER TABLE tfguard.audit_log SET SCHEMA public;
:refused
ALTER SCHEMA tfguard RENAME TO not_tfguard;
:refused
SET search_path = tfguard;
DELETE FROM audit_log WHERE id > 0;
:refused
RESET search_path;
CREATE FUNCTION public.wipe_trail() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE 'DELETE FROM tfguard.audit_log WHERE true';
END $$;
SELECT public.wipe_trail();
:refused
CREATE TABLE public.innocent (id int);
CREATE RULE wipe_trail AS ON INSERT TO public.innocent
	DO ALSO DELETE FROM tfguard.audit_log WHERE id > 0;
INSERT INTO public.innocent VALUES (1);
:refused
-- rules, triggers, indexes and locks would run inside or stall the writer
CREATE RULE forge AS ON INSERT TO tfguard.audit_log DO ALSO DELETE FROM tfguard.audit_log;
:refused
CREATE FUNCTION public.drop_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RETURN NULL;
END $$;
CREATE TRIGGER drop_rows BEFORE INSERT ON tfguard.audit_log
	FOR EACH ROW EXECUTE FUNCTION public.drop_row();
:refused
CREATE INDEX ON tfguard.audit_log (operation);
:refused
BEGIN;
LOCK TABLE tfguard.audit_log IN ACCESS EXCLUSIVE MODE;
:refused
ROLLBACK;
-- the writer numbers the rows itself: no sequence to setval() or restart
SELECT count(*) AS sequences FROM pg_class
 WHERE relkind = 'S' AND relnamespace = 'tfguard'::regnamespace;
ALTER EXTENSION tfguard DROP TABLE tfguard.audit_log;
:refused
ALTER EXTENSION tfguard UPDATE;
:refused
-- a table inheriting from the trail would show forged rows in it
CREATE TABLE public.forged () INHERITS (tfguard.audit_log);
:refused
CREATE TABLE public.forged2 (LIKE tfguard.audit_log);
ALTER TABLE public.forged2 INHERIT tfguard.audit_log;
:refused
-- no lock that would stall the writer (and with it every guarded
-- operation of the cluster), whatever takes it
BEGIN;
REINDEX TABLE tfguard.audit_log;
:refused
ROLLBACK;
BEGIN;
REINDEX INDEX tfguard.audit_log_pkey;
:refused
ROLLBACK;
BEGIN;
CLUSTER tfguard.audit_log USING audit_log_pkey;
:refused
ROLLBACK;
VACUUM (FULL) tfguard.audit_log;
:refused
VACUUM FULL tfguard.audit_log;
:refused
-- plain VACUUM and ANALYZE block no insert
VACUUM tfguard.audit_log;
ANALYZE tfguard.audit_log;
-- nothing was removed, and every tamper attempt was recorded
SELECT count(*) - :rows_before AS rows_added FROM tfguard.audit_log;
SELECT operation, object_name, count(*) FROM tfguard.audit_log
 WHERE id > :rows_before GROUP BY 1, 2 ORDER BY 1, 2;

-- a restricted role cannot even read it; a tfguard_admin member can read
-- it and still not change it
\c - agent
\set VERBOSITY terse
SELECT count(*) FROM tfguard.audit_log;
DELETE FROM tfguard.audit_log WHERE id = 1;
\c - :superuser
CREATE ROLE auditor LOGIN IN ROLE tfguard_admin;
\c - auditor
\set VERBOSITY terse
SELECT count(*) > 0 AS can_read FROM tfguard.audit_log;
UPDATE tfguard.audit_log SET detail = 'edited' WHERE id = 1;
DELETE FROM tfguard.audit_log WHERE id = 1;

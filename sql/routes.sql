--
-- The route must not matter: PL/pgSQL (static SQL and EXECUTE), SQL
-- functions, DO blocks, PREPARE/EXECUTE (custom and cached generic plans),
-- modifying CTEs, rules, triggers, SECURITY DEFINER functions, COPY,
-- EXPLAIN ANALYZE, and (as a superuser) event triggers.  Extended-protocol
-- parameters are in t/003_protocol.pl.
--
\set VERBOSITY terse
\set SHOW_CONTEXT never
\set refused '\\echo SQLSTATE :SQLSTATE'

-- As a superuser: an event trigger that drops a table on any DDL
CREATE SCHEMA su_routes;
CREATE TABLE su_routes.precious (id int);
INSERT INTO su_routes.precious VALUES (1), (2);
CREATE FUNCTION su_routes.wipe() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
	DROP TABLE su_routes.precious;
END $$;
CREATE EVENT TRIGGER wipe_on_ddl ON ddl_command_end
	WHEN TAG IN ('CREATE SEQUENCE') EXECUTE FUNCTION su_routes.wipe();
CREATE SEQUENCE su_routes.s;
:refused
DROP EVENT TRIGGER wipe_on_ddl;
SELECT count(*) AS precious_rows FROM su_routes.precious;

\c - agent
\set VERBOSITY terse
\set SHOW_CONTEXT never
\set refused '\\echo SQLSTATE :SQLSTATE'
CREATE SCHEMA r;
CREATE TABLE r.data (id int PRIMARY KEY, v text);
INSERT INTO r.data SELECT g, 'v' || g FROM generate_series(1, 100) g;
CREATE TABLE r.trigger_source (id int);
CREATE TABLE r.rule_source (id int);

-- PL/pgSQL, static SQL
CREATE FUNCTION r.static_routes(op text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF op = 'delete' THEN DELETE FROM r.data;
	ELSIF op = 'truncate' THEN TRUNCATE r.data;
	ELSIF op = 'drop' THEN DROP TABLE r.data;
	END IF;
END $$;
SELECT r.static_routes('delete');
:refused
SELECT r.static_routes('truncate');
:refused
SELECT r.static_routes('drop');
:refused
-- the same function again: PL/pgSQL now runs a cached plan
SELECT r.static_routes('delete');
:refused
-- PL/pgSQL, dynamic SQL
CREATE FUNCTION r.dynamic_route(stmt text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
END $$;
SELECT r.dynamic_route('DELETE FROM r.data WHERE 1=1');
:refused
SELECT r.dynamic_route(format('TRUNCATE %I.%I', 'r', 'data'));
:refused
SELECT r.dynamic_route('DROP TABLE r.data CASCADE');
:refused
-- a refusal caught by an exception handler still removes nothing
CREATE FUNCTION r.try_quietly() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM r.data;
	RETURN 'deleted';
EXCEPTION WHEN insufficient_privilege THEN
	RETURN 'refused: ' || SQLERRM;
END $$;
SELECT r.try_quietly();
-- SQL functions
CREATE FUNCTION r.sql_delete() RETURNS void LANGUAGE sql AS 'DELETE FROM r.data';
SELECT r.sql_delete();
:refused
CREATE FUNCTION r.sql_truncate() RETURNS void LANGUAGE sql AS 'TRUNCATE r.data';
SELECT r.sql_truncate();
:refused
CREATE PROCEDURE r.sql_drop() LANGUAGE sql AS 'DROP TABLE r.data';
CALL r.sql_drop();
:refused
-- SECURITY DEFINER
CREATE FUNCTION r.definer_delete() RETURNS void LANGUAGE sql SECURITY DEFINER
	SET search_path = pg_catalog AS 'DELETE FROM r.data';
SELECT r.definer_delete();
:refused
-- DO blocks
DO $$ BEGIN DELETE FROM r.data; END $$;
:refused
DO $$ BEGIN EXECUTE 'TRUNCATE r.data'; END $$;
:refused
DO $$ BEGIN EXECUTE 'DROP TABLE r.data'; END $$;
:refused
-- PREPARE / EXECUTE: a custom plan folds the parameter
PREPARE del_if(bool) AS DELETE FROM r.data WHERE $1;
EXECUTE del_if(true);
:refused
PREPARE del_all AS DELETE FROM r.data;
EXECUTE del_all;
:refused
-- a generic plan keeps the parameter as a gating condition: still refused
SET plan_cache_mode = force_generic_plan;
PREPARE del_if_generic(bool) AS DELETE FROM r.data WHERE $1;
EXECUTE del_if_generic(true);
:refused
-- a plan cached before, run again and again
EXECUTE del_if_generic(true);
:refused
RESET plan_cache_mode;
-- modifying CTEs
WITH gone AS (DELETE FROM r.data RETURNING *) SELECT count(*) FROM gone;
:refused
WITH gone AS (DELETE FROM r.data WHERE true RETURNING id)
	INSERT INTO r.trigger_source SELECT id FROM gone;
:refused
WITH x AS (SELECT 1), gone AS (DELETE FROM r.data) SELECT * FROM x;
:refused
-- COPY and EXPLAIN ANALYZE run the DELETE too
COPY (DELETE FROM r.data RETURNING id) TO STDOUT;
:refused
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) DELETE FROM r.data;
:refused
-- rules: an INSERT rewritten into a DELETE of everything
CREATE RULE wipe_instead AS ON INSERT TO r.rule_source
	DO INSTEAD DELETE FROM r.data;
INSERT INTO r.rule_source VALUES (1);
:refused
DROP RULE wipe_instead ON r.rule_source;
CREATE RULE wipe_also AS ON INSERT TO r.rule_source
	DO ALSO DELETE FROM r.data WHERE 1 = 1;
INSERT INTO r.rule_source VALUES (1);
:refused
DROP RULE wipe_also ON r.rule_source;
-- triggers: an innocent INSERT fires DELETE, TRUNCATE or DROP
CREATE FUNCTION r.trigger_wipe() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE TG_ARGV[0];
	RETURN NULL;
END $$;
CREATE TRIGGER wipe AFTER INSERT ON r.trigger_source
	FOR EACH ROW EXECUTE FUNCTION r.trigger_wipe('DELETE FROM r.data');
INSERT INTO r.trigger_source VALUES (1);
:refused
DROP TRIGGER wipe ON r.trigger_source;
CREATE TRIGGER wipe BEFORE INSERT ON r.trigger_source
	FOR EACH STATEMENT EXECUTE FUNCTION r.trigger_wipe('TRUNCATE r.data');
INSERT INTO r.trigger_source VALUES (1);
:refused
DROP TRIGGER wipe ON r.trigger_source;
CREATE TRIGGER wipe AFTER INSERT ON r.trigger_source
	FOR EACH STATEMENT EXECUTE FUNCTION r.trigger_wipe('DROP TABLE r.data');
INSERT INTO r.trigger_source VALUES (1);
:refused
DROP TRIGGER wipe ON r.trigger_source;

SELECT count(*) AS data_rows FROM r.data;
SELECT count(*) AS trigger_source_rows FROM r.trigger_source;

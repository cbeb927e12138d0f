--
-- Not guarded, because nothing that outlives the transaction is lost:
-- temporary tables, tables created in the current transaction, DROP ... IF
-- EXISTS of nothing, indexes, views, sequences, functions, qualified DELETE
-- and all other DML, and the internal drops of table rewrites.
--
\c - agent
\set VERBOSITY terse
CREATE SCHEMA ng;
CREATE TABLE ng.t (id int PRIMARY KEY, v text);
INSERT INTO ng.t SELECT g, 'v' FROM generate_series(1, 10) g;

-- temporary tables
CREATE TEMP TABLE scratch (id int);
INSERT INTO scratch VALUES (1);
DELETE FROM scratch;
TRUNCATE scratch;
DROP TABLE scratch;
CREATE TEMP TABLE scratch2 (id int) ON COMMIT DROP;

-- tables created in the current transaction, also in a subtransaction
BEGIN;
CREATE TABLE ng.staging (id int);
INSERT INTO ng.staging VALUES (1);
DELETE FROM ng.staging;
TRUNCATE ng.staging;
SAVEPOINT s1;
CREATE TABLE ng.staging2 (id int);
RELEASE SAVEPOINT s1;
DROP TABLE ng.staging, ng.staging2;
CREATE SCHEMA ng_tmp;
CREATE TABLE ng_tmp.x (id int);
DROP SCHEMA ng_tmp CASCADE;
CREATE TABLE ng.parted (k int) PARTITION BY LIST (k);
CREATE TABLE ng.parted_1 PARTITION OF ng.parted FOR VALUES IN (1);
INSERT INTO ng.parted VALUES (1);
DROP TABLE ng.parted_1;
DROP TABLE ng.parted;
COMMIT;

-- nothing there to lose
DROP TABLE IF EXISTS ng.no_such_table;
DROP SCHEMA IF EXISTS no_such_schema CASCADE;
-- objects that hold no data of their own
CREATE INDEX t_v ON ng.t (v);
DROP INDEX ng.t_v;
CREATE VIEW ng.v AS SELECT * FROM ng.t;
DROP VIEW ng.v;
CREATE SEQUENCE ng.s;
DROP SEQUENCE ng.s;
CREATE FUNCTION ng.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
DROP FUNCTION ng.f();
CREATE SCHEMA ng_empty;
DROP SCHEMA ng_empty CASCADE;

-- ordinary DML, qualified DELETE, EXPLAIN without ANALYZE
UPDATE ng.t SET v = 'w' WHERE id > 0;
INSERT INTO ng.t VALUES (11, 'x');
DELETE FROM ng.t WHERE id = 11;
EXPLAIN (COSTS OFF) DELETE FROM ng.t;
SELECT count(*) FROM ng.t;

-- table rewrites drop a transient copy internally
ALTER TABLE ng.t ALTER COLUMN v TYPE varchar(20);
VACUUM FULL ng.t;
CLUSTER ng.t USING t_pkey;
CREATE MATERIALIZED VIEW ng.mv AS SELECT id FROM ng.t;
CREATE UNIQUE INDEX ON ng.mv (id);
REFRESH MATERIALIZED VIEW ng.mv;
REFRESH MATERIALIZED VIEW CONCURRENTLY ng.mv;
SELECT count(*) FROM ng.t;
SELECT count(*) FROM ng.mv;

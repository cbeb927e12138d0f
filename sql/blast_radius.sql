--
-- Judged by what a statement destroys, not by how it is written: a
-- transaction that removes (mass_delete) or overwrites (mass_update) at
-- least tfguard.max_share (50%) of a table of at least tfguard.min_rows
-- (100) rows is refused, whatever its WHERE says and on every route; so
-- are update_all (UPDATE without an effective WHERE) and drop_column of a
-- table that holds rows.  Each refusal is 42501, rolls everything back
-- and is recorded with exact counts.
--
\set VERBOSITY terse
\set refused '\\echo SQLSTATE :SQLSTATE'
SELECT current_user AS superuser \gset
SHOW tfguard.max_share;
SHOW tfguard.min_rows;
SHOW tfguard.guarded;
-- settings of the server configuration only
SET tfguard.max_share = 1;
SET tfguard.guarded = 'drop_database';

\c - agent
\set VERBOSITY terse
\set refused '\\echo SQLSTATE :SQLSTATE'
CREATE SCHEMA br;
CREATE TABLE br.customers (id int PRIMARY KEY, name text);
INSERT INTO br.customers SELECT g, 'c' || g FROM generate_series(1, 200) g;
CREATE TABLE br.orders (id int PRIMARY KEY,
	customer int REFERENCES br.customers ON DELETE CASCADE, amount int,
	tag text);
INSERT INTO br.orders SELECT g, 1 + g % 200, g, 't' FROM generate_series(1, 1000) g;
CREATE TABLE br.jobs (id serial PRIMARY KEY, state text);
INSERT INTO br.jobs (state) SELECT 'done' FROM generate_series(1, 50);
CREATE VIEW br.intact AS
	SELECT (SELECT count(*) FROM br.orders) AS orders,
		   (SELECT count(*) FROM br.customers) AS customers,
		   (SELECT sum(amount) FROM br.orders) AS amounts;
SELECT * FROM br.intact;

-- the first shapes a refused agent tries
DELETE FROM br.orders;
:refused
DELETE FROM br.orders WHERE id > 0;
:refused
-- (on a NOT NULL column, PostgreSQL 17 and later fold these away: delete_all)
DELETE FROM br.orders WHERE amount IS NOT NULL;
:refused
DELETE FROM br.orders WHERE amount = amount;
:refused
UPDATE br.orders SET amount = 0;
:refused
UPDATE br.orders SET amount = 0 WHERE id > 0;
:refused
ALTER TABLE br.orders DROP COLUMN tag;
:refused
ALTER TABLE br.orders DROP COLUMN tag CASCADE;
:refused
SELECT * FROM br.intact;

-- all but one row, 90%, exactly half: refused; under half: ordinary work
DELETE FROM br.orders WHERE id > 1;
:refused
DELETE FROM br.orders WHERE id > 100;
:refused
DELETE FROM br.orders WHERE id > 500;
:refused
UPDATE br.orders SET amount = amount + 1 WHERE id <= 500;
:refused
BEGIN;
DELETE FROM br.orders WHERE id > 801;
UPDATE br.orders SET amount = amount + 1 WHERE id <= 299;
ROLLBACK;
-- what is removed and what is overwritten add up: 499 + 499 of 1000
BEGIN;
DELETE FROM br.orders WHERE id > 501;
UPDATE br.orders SET amount = amount + 1 WHERE id <= 499;
:refused
ROLLBACK;
SELECT * FROM br.intact;

-- batches within one transaction add up: the third third is refused
BEGIN;
DELETE FROM br.orders WHERE id <= 200;
DELETE FROM br.orders WHERE id > 200 AND id <= 400;
DELETE FROM br.orders WHERE id > 400 AND id <= 600;
:refused
ROLLBACK;
-- so do the rows of a loop, one at a time
DO $$
BEGIN
	FOR i IN 1..1000 LOOP
		DELETE FROM br.orders WHERE id = i;
	END LOOP;
END $$;
:refused
-- a savepoint rolled back removes nothing
BEGIN;
SAVEPOINT s;
DELETE FROM br.orders WHERE id <= 400;
ROLLBACK TO SAVEPOINT s;
DELETE FROM br.orders WHERE id <= 400;
ROLLBACK;
SELECT * FROM br.intact;

-- every route: a foreign key's ON DELETE CASCADE (refused at the table it
-- empties, when the cascade crosses the limit), a modifying CTE, a
-- generic plan, an SQL function, a rule, a trigger, MERGE
DELETE FROM br.customers WHERE id <= 120;
:refused
WITH gone AS (DELETE FROM br.orders WHERE id > 0 RETURNING id)
SELECT count(*) FROM gone;
:refused
SET plan_cache_mode = force_generic_plan;
PREPARE wipe(int) AS DELETE FROM br.orders WHERE id > $1;
EXECUTE wipe(0);
:refused
EXECUTE wipe(990);
RESET plan_cache_mode;
CREATE FUNCTION br.wipe() RETURNS void LANGUAGE sql
	AS 'DELETE FROM br.orders WHERE id < 2000';
SELECT br.wipe();
:refused
CREATE VIEW br.order_list AS SELECT * FROM br.orders;
CREATE RULE forget AS ON UPDATE TO br.order_list
	DO INSTEAD DELETE FROM br.orders WHERE id > 0;
UPDATE br.order_list SET amount = 1 WHERE id = 5;
:refused
CREATE TABLE br.trigger_source (id int);
CREATE FUNCTION br.empty_orders() RETURNS trigger LANGUAGE plpgsql
	AS $$ BEGIN DELETE FROM br.orders WHERE amount > 0; RETURN NEW; END $$;
CREATE TRIGGER empty_orders AFTER INSERT ON br.trigger_source
	FOR EACH ROW EXECUTE FUNCTION br.empty_orders();
INSERT INTO br.trigger_source VALUES (1);
:refused
MERGE INTO br.orders o USING br.customers c ON o.customer = c.id
	WHEN MATCHED AND o.id > 0 THEN DELETE;
:refused
MERGE INTO br.orders o USING br.customers c ON o.customer = c.id
	WHEN MATCHED AND o.id > 0 THEN UPDATE SET amount = 0;
:refused
SELECT * FROM br.intact;

-- old rows replaced by new ones are destroyed all the same: inserting
-- first, deleting after, in one statement, through MERGE or a trigger
BEGIN;
INSERT INTO br.orders SELECT g, 1, 0, 'junk' FROM generate_series(5001, 6000) g;
DELETE FROM br.orders WHERE id < 5000;
:refused
ROLLBACK;
WITH gone AS (DELETE FROM br.orders WHERE id > 0 RETURNING id)
INSERT INTO br.orders SELECT id + 100000, 1, 0, 'junk' FROM gone;
:refused
MERGE INTO br.orders o USING generate_series(1, 3000) s(g) ON o.id = s.g
	WHEN MATCHED AND o.id > 0 THEN DELETE
	WHEN NOT MATCHED THEN INSERT VALUES (s.g, 1, 0, 'junk');
:refused
CREATE FUNCTION br.replace_row() RETURNS trigger LANGUAGE plpgsql
	AS $$ BEGIN INSERT INTO br.orders VALUES (OLD.id + 100000, 1, 0, 'junk'); RETURN OLD; END $$;
CREATE TRIGGER replace_row BEFORE DELETE ON br.orders
	FOR EACH ROW WHEN (OLD.id < 100000) EXECUTE FUNCTION br.replace_row();
DELETE FROM br.orders WHERE id < 100000;
:refused
DROP TRIGGER replace_row ON br.orders;
-- INSERT ... ON CONFLICT DO UPDATE overwrites
INSERT INTO br.orders SELECT g, 1, 0, 'junk' FROM generate_series(1, 1000) g
	ON CONFLICT (id) DO UPDATE SET amount = excluded.amount;
:refused
-- rows inserted and deleted again to hide the overwrite of every other row
BEGIN;
INSERT INTO br.orders SELECT g, 1, 0, 'junk' FROM generate_series(5001, 6000) g;
DELETE FROM br.orders WHERE id > 5000;
UPDATE br.orders SET amount = 0 WHERE id > 0;
:refused
ROLLBACK;
-- overwritten in chunks under the limit, the storage rewritten between
BEGIN;
UPDATE br.orders SET amount = 0 WHERE id <= 300;
CLUSTER br.orders USING orders_pkey;
UPDATE br.orders SET amount = 0 WHERE id > 300 AND id <= 600;
:refused
ROLLBACK;
-- rows moved between partitions leave the partition they were in
CREATE TABLE br.parted (id int, v text) PARTITION BY LIST ((id % 2));
CREATE TABLE br.parted_0 PARTITION OF br.parted FOR VALUES IN (0);
CREATE TABLE br.parted_1 PARTITION OF br.parted FOR VALUES IN (1);
INSERT INTO br.parted SELECT g, 'v' FROM generate_series(1, 400) g;
UPDATE br.parted SET id = id + 1, v = 'junk' WHERE id > 0;
:refused
SELECT count(*) FILTER (WHERE v = 'v') AS parted_intact FROM br.parted;
SELECT * FROM br.intact;

-- net loss: a queue whose rows the transaction added and removes is fine
BEGIN;
INSERT INTO br.orders SELECT g, 1, 1, 'q' FROM generate_series(2001, 2800) g;
DELETE FROM br.orders WHERE id > 2000;
COMMIT;
-- small tables are left to the shape checks; so are temporary tables and
-- tables created in the same transaction
DELETE FROM br.jobs WHERE id > 0;
CREATE TEMP TABLE scratch AS SELECT g AS id FROM generate_series(1, 500) g;
DELETE FROM scratch WHERE id > 0;
BEGIN;
CREATE TABLE br.staging AS SELECT g AS id FROM generate_series(1, 500) g;
DELETE FROM br.staging WHERE id > 0;
UPDATE br.staging SET id = 0 WHERE id > 0;
COMMIT;
-- ADD COLUMN, and DROP COLUMN of a table without rows
ALTER TABLE br.orders ADD COLUMN note text;
ALTER TABLE br.jobs DROP COLUMN state;
-- a column lost through a cascade
CREATE TYPE br.mood AS ENUM ('ok', 'sad');
ALTER TABLE br.customers ADD COLUMN mood br.mood;
DROP TYPE br.mood CASCADE;
:refused
SELECT * FROM br.intact;

\c - :superuser
\set VERBOSITY terse
\set refused '\\echo SQLSTATE :SQLSTATE'
-- a superuser is refused alike
DELETE FROM br.orders WHERE id > 0;
:refused
UPDATE br.customers SET name = NULL WHERE true AND id > 0;
:refused
SELECT * FROM br.intact;

-- the trail: exact counts in every refusal
SELECT operation, object_name, decision, impact, count(*)
  FROM tfguard.audit_log
 WHERE object_name LIKE 'br.%'
 GROUP BY 1, 2, 3, 4
 ORDER BY 1, 2, 4;

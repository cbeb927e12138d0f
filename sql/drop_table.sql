--
-- drop_table: every route that removes a table, a partition, a partitioned
-- table or a materialized view is refused, and the data stays.
--
\set VERBOSITY terse
\set refused '\\echo SQLSTATE :SQLSTATE'

-- As a superuser.
CREATE SCHEMA su;
CREATE TABLE su.ledger (id int PRIMARY KEY, amount numeric);
INSERT INTO su.ledger SELECT g, g * 10 FROM generate_series(1, 50) g;
DROP TABLE su.ledger;
:refused
DROP TABLE IF EXISTS su.ledger CASCADE;
:refused
DROP SCHEMA su CASCADE;
:refused
-- a table that belongs to an extension goes with DROP EXTENSION
CREATE EXTENSION citext SCHEMA su;
CREATE TABLE su.ext_member (email su.citext);
INSERT INTO su.ext_member VALUES ('a@example.com');
ALTER EXTENSION citext ADD TABLE su.ext_member;
DROP EXTENSION citext;
:refused
DROP EXTENSION citext CASCADE;
:refused
SELECT count(*) AS ledger_rows FROM su.ledger;
SELECT count(*) AS ext_member_rows FROM su.ext_member;

-- As the agent, a restricted role that owns everything it tries to drop.
\c - agent
\set VERBOSITY terse
\set refused '\\echo SQLSTATE :SQLSTATE'
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id int PRIMARY KEY, name text);
CREATE TABLE shop.orders (id int PRIMARY KEY,
	customer int REFERENCES shop.customers, total numeric);
CREATE TABLE shop.notes (id int, body text);
INSERT INTO shop.customers SELECT g, 'customer ' || g FROM generate_series(1, 20) g;
INSERT INTO shop.orders SELECT g, 1 + g % 20, g FROM generate_series(1, 100) g;
INSERT INTO shop.notes VALUES (1, 'keep me');
CREATE VIEW shop.big_orders AS SELECT * FROM shop.orders WHERE total > 50;
CREATE MATERIALIZED VIEW shop.totals AS
	SELECT customer, sum(total) AS total FROM shop.orders GROUP BY customer;
CREATE TABLE shop.events (at date, what text) PARTITION BY RANGE (at);
CREATE TABLE shop.events_2025 PARTITION OF shop.events
	FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE shop.events_2026 PARTITION OF shop.events
	FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO shop.events VALUES ('2025-06-01', 'a'), ('2026-06-01', 'b');
-- a typed table goes with DROP TYPE ... CASCADE
CREATE TYPE shop.address AS (street text, city text);
CREATE TABLE shop.addresses OF shop.address;
INSERT INTO shop.addresses VALUES ('Main St 1', 'Springfield');
-- a table partitioned on a function goes with DROP FUNCTION ... CASCADE
CREATE FUNCTION shop.bucket(int) RETURNS int IMMUTABLE LANGUAGE sql
	AS 'SELECT $1 % 4';
CREATE TABLE shop.readings (sensor int, value float8)
	PARTITION BY LIST (shop.bucket(sensor));
CREATE TABLE shop.readings_0 PARTITION OF shop.readings FOR VALUES IN (0);
INSERT INTO shop.readings VALUES (4, 1.5);

DROP TABLE shop.notes;
:refused
DROP TABLE IF EXISTS shop.no_such_table, shop.notes;
:refused
DROP TABLE shop.customers CASCADE;
:refused
DROP TABLE shop.notes, shop.orders CASCADE;
:refused
DROP TABLE shop.events;
:refused
DROP TABLE shop.events_2026;
:refused
DROP MATERIALIZED VIEW shop.totals;
:refused
DROP SCHEMA shop CASCADE;
:refused
DROP OWNED BY agent;
:refused
DROP OWNED BY agent CASCADE;
:refused
DROP TYPE shop.address CASCADE;
:refused
DROP FUNCTION shop.bucket(int) CASCADE;
:refused
-- detach, then drop: the detach is harmless, the drop is refused
ALTER TABLE shop.events DETACH PARTITION shop.events_2025;
DROP TABLE shop.events_2025;
:refused
ALTER TABLE shop.events ATTACH PARTITION shop.events_2025
	FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
-- rows moved into a partition created in the same transaction are not
-- new: once an UPDATE has run, new partitions are guarded too
BEGIN;
CREATE TABLE shop.events_sink PARTITION OF shop.events DEFAULT;
UPDATE shop.events SET at = '2030-01-01' WHERE at IS NOT NULL;
DROP TABLE shop.events_sink;
:refused
ROLLBACK;
BEGIN;
CREATE TABLE shop.events_sink PARTITION OF shop.events DEFAULT;
UPDATE shop.events SET at = '2030-01-01' WHERE at IS NOT NULL;
ALTER TABLE shop.events DETACH PARTITION shop.events_sink;
TRUNCATE shop.events_sink;
:refused
ROLLBACK;
-- inside a transaction block the refusal aborts the transaction
BEGIN;
DROP TABLE shop.notes;
:refused
COMMIT;

-- everything is still there
SELECT (SELECT count(*) FROM shop.customers) AS customers,
	   (SELECT count(*) FROM shop.orders) AS orders,
	   (SELECT count(*) FROM shop.notes) AS notes,
	   (SELECT count(*) FROM shop.events) AS events,
	   (SELECT count(*) FROM shop.totals) AS totals,
	   (SELECT count(*) FROM shop.addresses) AS addresses,
	   (SELECT count(*) FROM shop.readings) AS readings,
	   (SELECT count(*) FROM shop.big_orders) AS big_orders;

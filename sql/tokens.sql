--
-- Unlock tokens in one session at a time: issuing rules, presenting,
-- scope, expiry (also before commit), masking, and the trail.  Pinning
-- across live sessions, revocation of a token in use, PGOPTIONS and the
-- server log are in t/007_tokens.pl.
--
\set VERBOSITY terse
SELECT current_user AS superuser \gset
CREATE ROLE other_agent LOGIN;
-- the agent's tables exist before any token names them
\c - agent
CREATE SCHEMA tok;
CREATE TABLE tok.a (id int);
CREATE TABLE tok.b (id int);
CREATE TABLE tok.c (id int);
INSERT INTO tok.a VALUES (1);
INSERT INTO tok.b VALUES (1);
INSERT INTO tok.c VALUES (1), (2);
\c - :superuser
\set VERBOSITY terse

-- issuing: who, for whom, what
SELECT tfguard.issue_token(current_user, ARRAY['drop_table']);
SELECT tfguard.issue_token('no_such_role', ARRAY['drop_table']);
SELECT tfguard.issue_token('agent', ARRAY['drop_everything']);
SELECT tfguard.issue_token('agent', ARRAY[]::text[]);
SELECT tfguard.issue_token('agent', ARRAY['drop_table'], ttl => '-1 minute');
SELECT tfguard.issue_token('agent', ARRAY['drop_table'], database => 'no_such_db');
SELECT tfguard.issue_token('agent', ARRAY['drop_table'], ARRAY['']);
SELECT tfguard.issue_token('agent', ARRAY['drop_table'], ARRAY[]::text[]);
-- a table named without its schema would match nothing; one that is not
-- in the token's database is a mistake (a database's name is fine)
SELECT tfguard.issue_token('agent', ARRAY['drop_table'], ARRAY['orders']);
SELECT tfguard.issue_token('agent', ARRAY['truncate'], ARRAY['public.nosuch'],
	database => current_database());
SELECT length(tfguard.issue_token('agent', ARRAY['drop_database'], ARRAY['shop'])) AS database_named;
SELECT length(tfguard.issue_token('agent', ARRAY['truncate'], ARRAY['public.nosuch'],
	database => 'postgres')) AS other_database_unchecked;
SELECT length(tfguard.issue_token('agent', ARRAY['drop_table'], ttl => '1 day')) AS capped_token_length;
SELECT expires_at - issued_at AS capped_ttl FROM tfguard.tokens ORDER BY issued_at DESC LIMIT 1;

-- the tokens the agent will use
SELECT tfguard.issue_token('agent', ARRAY['drop_table', 'delete_all'],
	ARRAY['tok.a', 'tok.c'], '10 minutes', reason => 'ticket 42') AS tok \gset
SELECT tfguard.issue_token('agent', ARRAY['delete_all'], ttl => '10 minutes',
	database => 'contrib_regression') AS tok_any \gset
SELECT tfguard.issue_token('agent', ARRAY['delete_all'], ttl => '1 second') AS tok_short \gset
SELECT tfguard.issue_token('agent', ARRAY['delete_all'], ttl => '6 seconds') AS tok_txn \gset
SELECT tfguard.issue_token('agent', ARRAY['drop_table'], database => 'postgres') AS tok_otherdb \gset
SELECT tfguard.issue_token('other_agent', ARRAY['drop_table']) AS tok_otherrole \gset
SELECT tfguard.issue_token('agent', ARRAY['drop_table']) AS tok_revoked \gset
SELECT tfguard.revoke_token(id) FROM tfguard.tokens WHERE reason IS NULL
	AND operations = 'drop_table' AND objects IS NULL AND database IS NULL AND role = 'agent'
	AND expires_at - issued_at = '15 minutes';
SELECT tfguard.revoke_token('000000000000');
SELECT tfguard.revoke_token(NULL);
SELECT tfguard.revoke_token(repeat('x', 100000));
SELECT :'tok' ~ '^tfg1_[0-9a-f]{40}$' AS token_shape;
SELECT role, operations, objects, database, issued_by = current_user AS by_me,
	   pinned_pid IS NULL AS unpinned, revoked, live, reason
  FROM tfguard.tokens ORDER BY issued_at;
-- a token can be set only by the session that uses it
ALTER ROLE agent SET tfguard.token = :'tok';
ALTER DATABASE contrib_regression SET tfguard.token = :'tok';
CREATE FUNCTION public.with_token() RETURNS int LANGUAGE sql
	SET tfguard.token = 'tfg1_0000000000000000000000000000000000000000' AS 'SELECT 1';

\c - agent
\set VERBOSITY terse
-- not an issued token, a mistyped one, a tampered one
SET tfguard.token = 'hunter2';
SET tfguard.token = 'tfg1_0123456789abcdef0123456789abcdef01234567';
SELECT overlay(:'tok' PLACING CASE WHEN right(:'tok', 1) = '0' THEN '1' ELSE '0' END
	FROM 45) AS tampered \gset
SET tfguard.token = :'tampered';
-- the real secret with anything appended is not the secret
SELECT :'tok' || 'x' AS tok_appended \gset
SET tfguard.token = :'tok_appended';
-- issued for another role, another database, revoked, expired
SET tfguard.token = :'tok_otherrole';
SET tfguard.token = :'tok_otherdb';
SET tfguard.token = :'tok_revoked';
SELECT pg_sleep(1.2);
SET tfguard.token = :'tok_short';
DROP TABLE tok.a;
-- the token another role presented is revoked as leaked, for its own role too
\c - other_agent
\set VERBOSITY terse
SET tfguard.token = :'tok_otherrole';
\c - agent
\set VERBOSITY terse

-- the right one: shown masked everywhere
SET tfguard.token = :'tok';
SELECT current_setting('tfguard.token') ~ '^token [0-9a-f]{12} \(secret hidden\)$' AS masked;
SELECT count(*) AS secrets_in_pg_settings FROM pg_settings
 WHERE setting ~ 'tfg1_[0-9a-f]' OR reset_val ~ 'tfg1_[0-9a-f]' OR boot_val ~ 'tfg1_[0-9a-f]';
-- exactly its scope: operations, objects
DROP TABLE tok.b;
TRUNCATE tok.a;
DELETE FROM tok.c;
DROP TABLE tok.a;
-- a transaction that rolls back keeps the table, and the token stays usable
BEGIN;
DROP TABLE tok.c;
ROLLBACK;
SELECT count(*) AS c_rows_after_allowed_delete FROM tok.c;
-- RESET ends the unlock
RESET tfguard.token;
DROP TABLE tok.c;

-- any object, but only delete_all, and only in contrib_regression
SET tfguard.token = :'tok_any';
DELETE FROM tok.b;
DROP TABLE tok.b;
RESET tfguard.token;

-- a transaction cannot commit a guarded change after its token expired
INSERT INTO tok.b VALUES (1), (2);
SET tfguard.token = :'tok_txn';
BEGIN;
DELETE FROM tok.b;
SELECT pg_sleep(6.5);
COMMIT;
SELECT count(*) AS b_rows_after_expiry FROM tok.b;
RESET tfguard.token;

-- pinned: a new session of the same role cannot present it again
\c - agent
\set VERBOSITY terse
SET tfguard.token = :'tok';
SELECT count(*) FROM tok.c;

-- the trail: every presentation and use, never a secret
\c - :superuser
\set VERBOSITY terse
SELECT operation, object_name, decision, token_id IS NOT NULL AS with_token, detail
  FROM tfguard.audit_log
 WHERE id > (SELECT max(id) FROM tfguard.audit_log WHERE operation = 'issue_token'
			   AND detail ~ 'reason=ticket 42')
   AND session_role = 'agent'
 ORDER BY id;
SELECT count(*) AS secrets_in_trail FROM tfguard.audit_log
 WHERE statement ~ 'tfg1_[0-9a-f]' OR detail ~ 'tfg1_[0-9a-f]' OR object_name ~ 'tfg1_[0-9a-f]';
SELECT count(*) AS issuance_recorded FROM tfguard.audit_log
 WHERE operation = 'issue_token' AND object_name = 'agent' AND token_id IS NOT NULL
   AND detail ~ '^operations=drop_table,delete_all objects=tok.a,tok.c database=any expires_at=.* reason=ticket 42$';
SELECT count(*) AS revocations_recorded FROM tfguard.audit_log
 WHERE operation = 'revoke_token' AND object_name = 'agent' AND token_id IS NOT NULL;

-- a tfguard_admin member may issue, but not for itself; others may not
\c - auditor
\set VERBOSITY terse
SELECT length(tfguard.issue_token('agent', ARRAY['truncate'])) AS admin_issued;
SELECT tfguard.issue_token('auditor', ARRAY['truncate']);
\c - agent
\set VERBOSITY terse
SELECT tfguard.issue_token('other_agent', ARRAY['truncate']);
SELECT * FROM tfguard.tokens;

-- The audit trail: one entry per change a person made (an HTTP command, an operator tool), written
-- in the same transaction as the change, in the database of the service that changed
-- (shared/audit/). Append-only and hash-chained: entries fall into chains (shared/audit/entry.ts,
-- chainOf); each carries the hash of the previous entry of its chain, so an entry edited, removed
-- or inserted afterwards breaks the chain there (`npm run audit -- verify`).
CREATE TABLE audit_log (
  chain          smallint NOT NULL,
  seq            bigint NOT NULL,
  id             uuid NOT NULL,
  at             timestamptz NOT NULL,
  subject        text NOT NULL,
  role           text NOT NULL,
  route          text NOT NULL,
  targets        text[] NOT NULL,
  change         jsonb,
  source         text,
  status         smallint,
  correlation_id text NOT NULL,
  prev_hash      bytea NOT NULL,
  hash           bytea NOT NULL,
  -- One entry per place in a chain: a fork cannot even be stored.
  PRIMARY KEY (chain, seq)
);
-- GET /audit: newest first, by person, by route, by target.
CREATE INDEX audit_log_by_time ON audit_log (at, id);
CREATE INDEX audit_log_by_subject ON audit_log (subject, at, id);
CREATE INDEX audit_log_by_route ON audit_log (route, at, id);
-- Without the pending list: an insert pays its own small share at once rather than, now and then,
-- the merge of thousands of others.
CREATE INDEX audit_log_by_target ON audit_log USING gin (targets) WITH (fastupdate = off);

-- Each chain's last entry. Appending locks the chain's row until the writing transaction commits,
-- so concurrent writers take turns and never fork it; verify checks that the last entry is here.
CREATE TABLE audit_heads (
  chain     smallint PRIMARY KEY,
  seq       bigint NOT NULL,
  prev_hash bytea NOT NULL,
  hash      bytea NOT NULL
);

-- Entries are never changed or removed by the application; a hand that gets past this (a
-- superuser disabling triggers) is still caught by the chain.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

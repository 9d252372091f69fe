-- No statement may hold a request or a batch until its function times out: a stuck lock or an
-- overloaded server answers with an error worth retrying instead (57014, transient). Set on the
-- database rather than by each connection, so no session state is set that would pin an RDS Proxy
-- connection; migrations lift it for their own session (shared/db/migrate.ts).
DO $$ BEGIN
  EXECUTE format('ALTER DATABASE %I SET statement_timeout = %L', current_database(), '5s');
END $$;

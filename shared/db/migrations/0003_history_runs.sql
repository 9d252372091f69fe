-- Operator jobs on the event log (shared/history/runs.ts): rebuilds and checks of a projection kept
-- in this database, and replays of this database's log. A run is requested (by the API or the
-- command line), taken by a worker under a lease, and carries its checkpoint, so a worker that dies
-- leaves it to the next one to resume. At most one run per subject is active: a second is refused.
CREATE TABLE history_runs (
  id           uuid PRIMARY KEY,
  kind         text NOT NULL CHECK (kind IN ('rebuild', 'check', 'replay')),
  subject      text NOT NULL,
  params       jsonb NOT NULL DEFAULT '{}',
  status       text NOT NULL CHECK (status IN ('requested', 'running', 'done', 'failed')),
  requested_by text,
  -- The worker holding the run and until when; a worker whose lease was taken over stops.
  worker       uuid,
  lease_until  timestamptz,
  checkpoint   bigint NOT NULL DEFAULT 0,
  done_events  bigint NOT NULL DEFAULT 0,
  total_events bigint,
  result       jsonb,
  error        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE UNIQUE INDEX history_runs_one_active ON history_runs (subject) WHERE status IN ('requested', 'running');
CREATE INDEX history_runs_by_subject ON history_runs (subject, created_at DESC);

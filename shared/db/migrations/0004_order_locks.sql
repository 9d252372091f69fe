-- One row per order a service has had to serialise work on (shared/db/locks.ts). Row locks, not
-- advisory locks: RDS Proxy pins a client connection to its database connection when it sees a
-- locking function such as pg_advisory_lock, and a pinned connection is not shared until the
-- function's environment ends. A row lock is plain SQL, ends with the transaction and pins nothing.
CREATE TABLE order_locks (
  order_id  uuid PRIMARY KEY,
  -- When the row was first needed: the pruner removes rows past the inbox window (a later event
  -- of that order simply inserts it again).
  locked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_locks_by_time ON order_locks USING brin (locked_at);

-- Locks the given orders until the transaction ends, in key order (two transactions locking
-- overlapping sets never deadlock). Rows that do not exist yet are inserted first: FOR UPDATE
-- cannot lock a row that is not there. Each statement takes a fresh snapshot (READ COMMITTED), so
-- rows committed by a transaction the insert waited for are seen and locked; a row the pruner
-- deleted meanwhile is missed, and the loop inserts it again. One call, one round trip.
CREATE FUNCTION lock_orders(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  wanted int;
  locked int;
BEGIN
  SELECT count(DISTINCT id) INTO wanted FROM unnest(ids) AS id;
  LOOP
    INSERT INTO order_locks (order_id)
    SELECT DISTINCT id FROM unnest(ids) AS id ORDER BY 1
    ON CONFLICT (order_id) DO NOTHING;
    PERFORM 1 FROM order_locks WHERE order_id = ANY(ids) ORDER BY order_id FOR UPDATE;
    GET DIAGNOSTICS locked = ROW_COUNT;
    EXIT WHEN locked = wanted;
  END LOOP;
END
$$;

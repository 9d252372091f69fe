-- Who holds a publisher's lease on an outbox row: a publisher releases or marks only the rows it
-- claimed, never rows whose lease ran out and another publisher took over.
ALTER TABLE outbox ADD COLUMN claim_id uuid;

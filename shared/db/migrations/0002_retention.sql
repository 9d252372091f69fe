-- The pruner finds inbox rows past their window by when they were received. BRIN, not B-tree: the
-- inbox is written in received_at order, so a block range summary finds the old rows, and it
-- costs each insert almost nothing (a B-tree would be one more index to update per event).
CREATE INDEX inbox_by_received ON inbox USING brin (received_at);

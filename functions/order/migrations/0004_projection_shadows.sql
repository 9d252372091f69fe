-- The shadows a rebuild folds the log into (shared/history/table-rebuild.ts), beside the live
-- tables, same columns; the live tables become equal to them when a rebuild swaps. No foreign key
-- and no secondary index: they are written in bulk and read once, by key.
CREATE TABLE orders_rebuild (LIKE orders INCLUDING DEFAULTS);
ALTER TABLE orders_rebuild ADD PRIMARY KEY (id);
CREATE TABLE order_items_rebuild (LIKE order_items INCLUDING DEFAULTS);
ALTER TABLE order_items_rebuild ADD PRIMARY KEY (order_id, line_no);
CREATE TABLE catalog_products_rebuild (LIKE catalog_products INCLUDING DEFAULTS);
ALTER TABLE catalog_products_rebuild ADD PRIMARY KEY (id);

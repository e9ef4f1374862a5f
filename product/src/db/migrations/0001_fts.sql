-- Full-text search over name and description (GET /api/products?q=). An external-content FTS5
-- index: the text lives once, in products; the triggers below keep the index in step with it.
-- Written by hand: drizzle-kit does not model virtual tables or triggers.
CREATE VIRTUAL TABLE `products_fts` USING fts5(
	name,
	description,
	content = 'products',
	content_rowid = 'seq',
	tokenize = 'unicode61 remove_diacritics 2'
);
--> statement-breakpoint
CREATE TRIGGER `products_fts_insert` AFTER INSERT ON `products` BEGIN
	INSERT INTO products_fts (rowid, name, description) VALUES (new.seq, new.name, new.description);
END;
--> statement-breakpoint
CREATE TRIGGER `products_fts_delete` AFTER DELETE ON `products` BEGIN
	INSERT INTO products_fts (products_fts, rowid, name, description)
	VALUES ('delete', old.seq, old.name, old.description);
END;
--> statement-breakpoint
CREATE TRIGGER `products_fts_update` AFTER UPDATE OF name, description ON `products` BEGIN
	INSERT INTO products_fts (products_fts, rowid, name, description)
	VALUES ('delete', old.seq, old.name, old.description);
	INSERT INTO products_fts (rowid, name, description) VALUES (new.seq, new.name, new.description);
END;

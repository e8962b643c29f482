-- The full-text search index (FTS5), kept by hand: drizzle has no virtual tables.
-- One row per image, rowid = search_docs.doc_id. unicode61 with remove_diacritics 2 folds case
-- and diacritics alike in the text and in queries; prefix indexes make "bea*" cheap.
CREATE VIRTUAL TABLE `search_fts` USING fts5(
	title,
	description,
	tags,
	albums,
	-- Tokens of the document's owner and albums (domain/search-query.ts: ownerKey, albumKey),
	-- so those filters intersect posting lists instead of scanning matches. Weight 0 in bm25.
	keys,
	tokenize = 'unicode61 remove_diacritics 2',
	prefix = '2 3'
);
--> statement-breakpoint
-- A doc that goes (its image purged, by cascade, or replaced) takes its text with it.
CREATE TRIGGER `search_docs_after_delete` AFTER DELETE ON `search_docs` BEGIN
	DELETE FROM `search_fts` WHERE rowid = old.doc_id;
END;

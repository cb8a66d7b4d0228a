-- Per-user HNSW indexes for large asset libraries, and the bytes each asset stores (the upload quota).
--
-- adgen_assets.search_indexes builds `assets_hnsw_<user hex>` (a partial HNSW index over one user's
-- half-precision embeddings, CREATE INDEX CONCURRENTLY, outside any transaction) for users whose
-- library grew past a threshold, and records it here once it is valid: searches take the index path
-- only for users with a row. Dropping goes the other way (row first, then DROP INDEX CONCURRENTLY).
-- A deleted user's row goes with the user; the next maintenance pass drops the orphaned index.
CREATE TABLE asset_search_indexes (
    user_id       uuid PRIMARY KEY REFERENCES users ON DELETE CASCADE,
    index_name    text NOT NULL UNIQUE,
    rows_indexed  bigint NOT NULL CHECK (rows_indexed >= 0),
    built_at      timestamptz NOT NULL DEFAULT now()
);

-- Original + thumbnail + edge map, counted against the user's byte quota (adgen_assets.quota).
-- A constant default: no table rewrite. Assets stored before this migration count 0 bytes.
ALTER TABLE assets ADD COLUMN stored_bytes bigint NOT NULL DEFAULT 0;

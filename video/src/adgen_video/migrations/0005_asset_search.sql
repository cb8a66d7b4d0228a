-- Per-user nearest-neighbour search (adgen_assets.search): a half-precision copy of each embedding,
-- kept in the row itself. The full vector(512) is 2 KB, above the TOAST threshold, so the exact scan
-- over a user's rows paid a TOAST fetch per row; the 1 KB halfvec stays inline and the scan ranks by
-- it, then re-scores the best few at full precision. Generated, so it can never disagree with
-- `embedding` (NULL until the asset is embedded).
--
-- Cost on a populated table: ADD COLUMN ... STORED rewrites the table and its indexes under an
-- ACCESS EXCLUSIVE lock (bench/report.md times it at 100 000 and 1 000 000 rows). Migrations run in
-- one transaction each, so this cannot be done concurrently; plan the deploy for it.
ALTER TABLE assets ADD COLUMN embedding_half halfvec(512)
    GENERATED ALWAYS AS (embedding::halfvec(512)) STORED;

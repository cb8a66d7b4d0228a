-- Forward-only, enforced: each applied migration's sha256, recorded when it is applied (and, for the
-- ones applied before this column existed, the first time a migrator runs after it). `migrate()`
-- refuses to run when an applied file no longer matches: an applied migration is never edited, a
-- change is a new file.
ALTER TABLE schema_migrations ADD COLUMN checksum text;

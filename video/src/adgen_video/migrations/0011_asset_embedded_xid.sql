-- Which transaction last wrote an asset's embedding, so that an in-memory search index built from a
-- snapshot (adgen_assets.search_cache) can find every row that snapshot may not have seen: the rows
-- whose embedded_xid is at or above the snapshot's xmin. A trigger rather than the service's UPDATE,
-- so that every writer (the embed worker, a bulk COPY, a re-embedding) sets it.
--
-- Existing rows keep NULL: every snapshot taken after this migration sees them.
-- Cost on a populated table: the column is added without a rewrite; the index is built under a SHARE
-- lock (writes to assets wait for it: seconds at 1 000 000 rows).
ALTER TABLE assets ADD COLUMN embedded_xid xid8;

CREATE FUNCTION assets_embedded_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.embedding IS NOT NULL THEN
        NEW.embedded_xid := pg_current_xact_id();
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER assets_embedded_xid BEFORE INSERT OR UPDATE OF embedding ON assets
    FOR EACH ROW EXECUTE FUNCTION assets_embedded_xid();

CREATE INDEX assets_user_embedded_xid ON assets (user_id, embedded_xid) WHERE embedded_xid IS NOT NULL;

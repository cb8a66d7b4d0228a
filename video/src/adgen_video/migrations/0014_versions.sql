-- Versions: the owner of a completed video edits its plan and the video is made again as version
-- N+1 from what it has (only what the edit changed is redone); every completed version stays
-- downloadable. videos.version is the version being made, or the last one made.
ALTER TABLE videos ADD COLUMN version int NOT NULL DEFAULT 1 CHECK (version > 0);

-- One row per completed version: the plan it was made from (when its row had one) and its primary
-- final and poster.
CREATE TABLE video_versions (
    video_id      uuid NOT NULL REFERENCES videos ON DELETE CASCADE,
    version       int NOT NULL CHECK (version > 0),
    spec          jsonb,
    plan_revision int NOT NULL CHECK (plan_revision > 0),
    final_key     text NOT NULL,
    poster_key    text NOT NULL,
    completed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, version)
);
INSERT INTO video_versions (video_id, version, spec, plan_revision, final_key, poster_key, completed_at)
    SELECT video_id, 1, spec, plan_revision, final_key, poster_key, coalesce(completed_at, now()) FROM videos
    WHERE status = 'completed' AND final_key IS NOT NULL AND poster_key IS NOT NULL;

-- Each version publishes its own renditions.
ALTER TABLE renditions ADD COLUMN version int NOT NULL DEFAULT 1 CHECK (version > 0);
ALTER TABLE renditions DROP CONSTRAINT renditions_pkey;
ALTER TABLE renditions ADD PRIMARY KEY (video_id, version, aspect_ratio);
DROP INDEX renditions_one_primary;
CREATE UNIQUE INDEX renditions_one_primary ON renditions (video_id, version) WHERE is_primary;

-- Each provider call is paid for the version it was made for.
ALTER TABLE cost_ledger ADD COLUMN version int NOT NULL DEFAULT 1 CHECK (version > 0);

-- A chunk or a line made again for a later version is a take of its own, as a frame drawn again at a
-- gate is (0013): its own objects, its own paid call.
ALTER TABLE chunks ADD COLUMN takes int NOT NULL DEFAULT 0 CHECK (takes >= 0);
ALTER TABLE voice_lines ADD COLUMN takes int NOT NULL DEFAULT 0 CHECK (takes >= 0);

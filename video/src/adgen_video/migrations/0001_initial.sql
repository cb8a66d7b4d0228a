-- adgen schema, version 1. Migrations are forward-only: never edit an applied file, add a new one.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE users (
    user_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    -- sha256 of the API key; keys are 256-bit random tokens, shown once.
    api_key_hash  bytea NOT NULL UNIQUE,
    max_active_videos int NOT NULL DEFAULT 1 CHECK (max_active_videos >= 1),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE videos (
    video_id      uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users ON DELETE CASCADE,
    status        text NOT NULL CHECK (status IN ('queued', 'planning', 'rendering', 'refining',
                                                  'exporting', 'completed', 'failed')),
    request       jsonb NOT NULL,
    spec          jsonb,
    error         text,
    failed_phase  text,
    final_key     text,
    poster_key    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    planned_at    timestamptz,
    completed_at  timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX videos_user_created ON videos (user_id, created_at DESC);
CREATE INDEX videos_active ON videos (user_id) WHERE status NOT IN ('completed', 'failed');

-- One row per storyboard image: what a retry reuses.
CREATE TABLE frames (
    video_id      uuid NOT NULL REFERENCES videos ON DELETE CASCADE,
    beat_index    int NOT NULL,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
    attempts      int NOT NULL DEFAULT 0,
    image_key     text,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, beat_index)
);

-- One row per chunk: partial recovery resumes from here.
CREATE TABLE chunks (
    video_id      uuid NOT NULL REFERENCES videos ON DELETE CASCADE,
    chunk_index   int NOT NULL,
    beat_index    int NOT NULL,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
    attempts      int NOT NULL DEFAULT 0,
    clip_key      text,
    handoff_key   text,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, chunk_index)
);

CREATE TABLE assets (
    asset_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users ON DELETE CASCADE,
    name          text NOT NULL,
    source        text NOT NULL CHECK (source IN ('USER_UPLOAD', 'GENERATED')),
    content_type  text NOT NULL,
    width         int NOT NULL,
    height        int NOT NULL,
    original_key  text NOT NULL UNIQUE,
    thumbnail_key text NOT NULL,
    edges_key     text NOT NULL,
    embedding     vector(512),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assets_user_created ON assets (user_id, created_at DESC, asset_id);

-- One row per provider call; the idempotency key makes a redelivered unit unable to pay twice.
CREATE TABLE cost_ledger (
    idempotency_key text PRIMARY KEY,
    video_id      uuid NOT NULL REFERENCES videos ON DELETE CASCADE,
    phase         text NOT NULL,
    provider      text NOT NULL,
    model         text NOT NULL,
    units         int NOT NULL CHECK (units >= 0),
    usd_micros    bigint NOT NULL CHECK (usd_micros >= 0),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cost_ledger_video ON cost_ledger (video_id);

-- One row per beat with a voiceover line, written with the plan: refine waits until every line of
-- the video is spoken as it waits for the chunks, and a resume speaks exactly the lines not done.
CREATE TABLE voice_lines (
    video_id      uuid NOT NULL REFERENCES videos ON DELETE CASCADE,
    beat_index    int NOT NULL,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
    attempts      int NOT NULL DEFAULT 0,
    audio_key     text,
    duration_s    double precision,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, beat_index)
);

-- One row per delivered shape of a video: the primary (also in videos.final_key/poster_key) and any
-- further shapes rendered from the same plan and chunks. Written by export before the video is
-- marked completed.
CREATE TABLE renditions (
    video_id      uuid NOT NULL REFERENCES videos ON DELETE CASCADE,
    aspect_ratio  text NOT NULL CHECK (aspect_ratio IN ('16:9', '9:16', '1:1')),
    is_primary    boolean NOT NULL,
    position      int NOT NULL CHECK (position >= 0),
    width         int NOT NULL CHECK (width > 0),
    height        int NOT NULL CHECK (height > 0),
    final_key     text NOT NULL,
    poster_key    text NOT NULL,
    captions_key  text,
    PRIMARY KEY (video_id, aspect_ratio)
);
CREATE UNIQUE INDEX renditions_one_primary ON renditions (video_id) WHERE is_primary;

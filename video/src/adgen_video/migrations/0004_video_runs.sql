-- A failed or cancelled video can be retried; each retry is a new run of the same video. Work and
-- event message ids carry the run, so the stream's duplicate window cannot drop a later run's messages.
ALTER TABLE videos ADD COLUMN run int NOT NULL DEFAULT 1 CHECK (run >= 1);

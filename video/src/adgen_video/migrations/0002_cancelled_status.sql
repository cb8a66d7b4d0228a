-- A video can be cancelled by its owner: a third finished status next to completed and failed.
ALTER TABLE videos DROP CONSTRAINT videos_status_check;
ALTER TABLE videos ADD CONSTRAINT videos_status_check CHECK (status IN ('queued', 'planning', 'rendering', 'refining',
                                                                        'exporting', 'completed', 'failed', 'cancelled'));

-- The active-video limit counts only videos that are still running.
DROP INDEX videos_active;
CREATE INDEX videos_active ON videos (user_id) WHERE status NOT IN ('completed', 'failed', 'cancelled');

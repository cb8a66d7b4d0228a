-- Review gates: a video can stop after its plan or after its storyboard, before anything after the
-- gate is paid for, until its owner approves (status awaiting_review); a gate left alone past its
-- time ends the run as expired, nothing lost, and a retry opens the gate again.
ALTER TABLE videos DROP CONSTRAINT videos_status_check;
ALTER TABLE videos ADD CONSTRAINT videos_status_check CHECK (status IN ('queued', 'planning', 'rendering', 'refining',
    'exporting', 'awaiting_review', 'completed', 'failed', 'cancelled', 'expired'));

-- review_gate: the gate still ahead of the video (or at which it waits); NULL once approved, or when
--   the request asked for none.
-- review_ttl_s: how long the gate waits, fixed when the video is accepted.
-- review_expires_at: set when the gate is reached.
-- quote: the plan's quote (a Cost message as JSON), written with the plan: a gate prices the rest from it.
-- plan_revision: 1 for the planner's plan, one more for each edit by its owner; an edit names the
--   revision it was made on, so of two edits made at once the second is refused.
ALTER TABLE videos
    ADD COLUMN review_gate text CHECK (review_gate IN ('plan', 'storyboard')),
    ADD COLUMN review_ttl_s int NOT NULL DEFAULT 604800 CHECK (review_ttl_s > 0),
    ADD COLUMN review_expires_at timestamptz,
    ADD COLUMN quote jsonb,
    ADD COLUMN plan_revision int NOT NULL DEFAULT 1 CHECK (plan_revision > 0);

-- How many times the beat's image was drawn again at a gate: each take is its own object and its own paid call.
ALTER TABLE frames ADD COLUMN takes int NOT NULL DEFAULT 0 CHECK (takes >= 0);

-- A video waiting for its owner holds no rendering slot.
DROP INDEX videos_active;
CREATE INDEX videos_active ON videos (user_id)
    WHERE status NOT IN ('completed', 'failed', 'cancelled', 'expired', 'awaiting_review');
CREATE INDEX videos_review_expiry ON videos (review_expires_at) WHERE status = 'awaiting_review';

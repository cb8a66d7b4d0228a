-- A per-video budget cap (VideoRequest.max_cost_micros, REST max_cost_usd; adgen_kernel.budget).
--
-- The cap is part of the request, so the column is generated from it: it cannot disagree with the
-- request and no writer has to remember it; NULL means no cap (every video created before this
-- migration). Like 0005, ADD COLUMN ... STORED rewrites `videos` under an ACCESS EXCLUSIVE lock.
ALTER TABLE videos ADD COLUMN max_cost_micros bigint
    GENERATED ALWAYS AS ((request ->> 'max_cost_micros')::bigint) STORED;

-- What a paid unit holds of the cap while its provider call runs: written under the video's row
-- lock right before the call, keyed like the ledger row the call will write (one per unit, so a
-- redelivered unit reuses its reservation). Committed = the ledger + the reservations that have no
-- ledger row yet; a unit may start only when committed + its price stays within the cap.
CREATE TABLE budget_reservations (
    unit          text PRIMARY KEY,
    video_id      uuid NOT NULL REFERENCES videos ON DELETE CASCADE,
    usd_micros    bigint NOT NULL CHECK (usd_micros >= 0),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX budget_reservations_video ON budget_reservations (video_id);

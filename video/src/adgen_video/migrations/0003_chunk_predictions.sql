-- A chunk rendered by a paid provider remembers its prediction: the tag is written before the create
-- is sent and the id as soon as it is known, so a restarted worker polls the prediction it already
-- paid for (or finds it by tag when the create's answer was lost) instead of creating another.
ALTER TABLE chunks ADD COLUMN prediction_id text, ADD COLUMN prediction_tag text;

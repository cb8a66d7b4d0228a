-- A storyboard image drawn by a paid provider remembers its prediction, as chunks do (0003): the tag
-- is written before the create is sent and the id as soon as it is known, so a restarted worker polls
-- the prediction it already paid for (or finds it by tag when the create's answer was lost) instead
-- of creating another.
ALTER TABLE frames ADD COLUMN prediction_id text, ADD COLUMN prediction_tag text;

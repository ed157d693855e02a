-- Releases can be withdrawn (no longer offered, history kept) and carry
-- compatibility rules: a serialized updraft.v1.Compatibility (empty = every
-- device). A change of what is offered is announced on the NOTIFY channel
-- updraft_catalog_releases (payload: the release ID) in the same transaction.
ALTER TABLE releases DROP CONSTRAINT IF EXISTS releases_state_check;
ALTER TABLE releases DROP CONSTRAINT IF EXISTS releases_check;
ALTER TABLE releases ADD COLUMN withdrawn_at timestamptz;
ALTER TABLE releases ADD COLUMN compatibility bytea NOT NULL DEFAULT '';
ALTER TABLE releases ADD CONSTRAINT releases_state_check
  CHECK (state IN ('DRAFT', 'PUBLISHED', 'WITHDRAWN'));
ALTER TABLE releases ADD CONSTRAINT releases_published_at_check
  CHECK ((state = 'DRAFT') = (published_at IS NULL));
ALTER TABLE releases ADD CONSTRAINT releases_withdrawn_at_check
  CHECK ((state = 'WITHDRAWN') = (withdrawn_at IS NOT NULL));
DROP INDEX IF EXISTS releases_published_idx;
CREATE INDEX releases_public_idx ON releases (package_id) WHERE state <> 'DRAFT';

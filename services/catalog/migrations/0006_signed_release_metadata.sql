-- A release's signed metadata (a serialized updraft.v1.SignedReleaseMetadata;
-- empty when it was published unsigned), replaced when the publisher signs
-- it again with a later expiry.
ALTER TABLE releases ADD COLUMN signed_metadata bytea NOT NULL DEFAULT '';

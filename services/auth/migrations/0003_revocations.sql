-- Every revocation auth publishes, in its Redis wire form (common/revocation.h),
-- kept until it expires: Redis holds the live snapshot, and auth publishes
-- these again after Redis lost it (DurableRevocationPublisher).
CREATE TABLE revocations (
  message text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX revocations_expires_at ON revocations (expires_at);

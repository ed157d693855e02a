-- Device identities and the audit trail of changes to them.
CREATE TABLE devices (
  device_id text PRIMARY KEY,
  public_key bytea NOT NULL CHECK (length(public_key) = 32),
  status text NOT NULL CHECK (status IN ('accepted', 'pending', 'rejected', 'revoked')),
  attributes jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth_audit (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  action text NOT NULL,
  device_id text,
  detail text NOT NULL DEFAULT ''
);

CREATE INDEX auth_audit_device_id ON auth_audit (device_id, at);

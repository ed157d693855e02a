-- Device groups, per-group settings of a release, per-component operations
-- and what a report applied.

-- Named sets of devices (services/catalog/group_store.h). Byte-order
-- collation so that paging by device ID matches the C++ ordering.
CREATE TABLE device_group_members (
  group_name text COLLATE "C" NOT NULL,
  device_id  text COLLATE "C" NOT NULL,
  added_at   timestamptz NOT NULL,
  PRIMARY KEY (group_name, device_id)
);

CREATE INDEX device_group_members_device_idx ON device_group_members (device_id);

-- A serialized updraft.v1.Release holding only group_settings (per-group
-- overrides of the release's settings, in precedence order).
ALTER TABLE releases ADD COLUMN group_settings bytea NOT NULL DEFAULT '';

-- Operations queued on one DC of one device (a group is expanded to one row
-- per member when queued). state moves QUEUED -> DELIVERED -> SUCCEEDED or
-- FAILED; result_code is the SCOMO code the device reported.
CREATE TABLE component_operations (
  operation_id text PRIMARY KEY,
  seq          bigserial,
  device_id    text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('UPDATE', 'ACTIVATE', 'DEACTIVATE', 'REMOVE')),
  dc_id        text NOT NULL,
  release_id   text NOT NULL REFERENCES releases (release_id),
  group_name   text NOT NULL DEFAULT '',
  state        text NOT NULL CHECK (state IN ('QUEUED', 'DELIVERED', 'SUCCEEDED', 'FAILED')),
  result_code  integer NOT NULL DEFAULT 0,
  message      text NOT NULL DEFAULT '',
  queued_at    timestamptz NOT NULL,
  delivered_at timestamptz,
  completed_at timestamptz
);

CREATE INDEX component_operations_device_idx ON component_operations (device_id, seq);
CREATE INDEX component_operations_pending_idx ON component_operations (device_id, seq)
  WHERE state IN ('QUEUED', 'DELIVERED');

-- A report may answer an operation and say which settings were applied.
ALTER TABLE device_reports ADD COLUMN operation_id text NOT NULL DEFAULT '';
ALTER TABLE device_reports ADD COLUMN applied_settings jsonb NOT NULL DEFAULT '{}';

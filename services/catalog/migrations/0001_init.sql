-- Catalog schema: packages, releases and their DCs, what devices reported.

CREATE TABLE packages (
  package_id  text PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  author      text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL
);

-- version is a semantic version; ordering is done in C++ (common/semver.h).
-- manifest is a serialized updraft.v1.ArtifactManifest copied from the
-- download service; dcinfo a serialized updraft.v1.DcInfo with every dc_id
-- assigned.
CREATE TABLE releases (
  release_id      text PRIMARY KEY,
  package_id      text NOT NULL REFERENCES packages (package_id),
  version         text NOT NULL,
  state           text NOT NULL CHECK (state IN ('DRAFT', 'PUBLISHED')),
  artifact_sha256 text NOT NULL CHECK (artifact_sha256 ~ '^[0-9a-f]{64}$'),
  manifest        bytea NOT NULL,
  dcinfo          bytea NOT NULL,
  settings        jsonb NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL,
  published_at    timestamptz,
  UNIQUE (package_id, version),
  CHECK ((state = 'PUBLISHED') = (published_at IS NOT NULL))
);

CREATE INDEX releases_published_idx ON releases (package_id) WHERE state = 'PUBLISHED';

-- One row per DC of a release, from its DCinfo.
CREATE TABLE release_dcs (
  release_id text NOT NULL REFERENCES releases (release_id) ON DELETE CASCADE,
  dc_id      text NOT NULL,
  author     text NOT NULL,
  name       text NOT NULL,
  version    text NOT NULL,
  files      text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (release_id, dc_id)
);

CREATE INDEX release_dcs_triple_idx ON release_dcs (author, name, version);

-- A device's components as it last reported them (SCOMO Inventory).
-- release_id and dc_id are empty for software installed offline.
CREATE TABLE device_components (
  device_id  text NOT NULL,
  dc_id      text NOT NULL DEFAULT '',
  release_id text NOT NULL DEFAULT '',
  author     text NOT NULL,
  name       text NOT NULL,
  version    text NOT NULL,
  location   text NOT NULL CHECK (location IN ('DELIVERED', 'DEPLOYED')),
  state      text NOT NULL
             CHECK (state IN ('COMPONENT_STATE_UNSPECIFIED', 'ACTIVE', 'INACTIVE')),
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (device_id, author, name)
);

-- Result reports (SCOMO result codes), idempotent by the device's report_id.
CREATE TABLE device_reports (
  device_id   text NOT NULL,
  report_id   text NOT NULL,
  release_id  text NOT NULL REFERENCES releases (release_id),
  result_code integer NOT NULL,
  message     text NOT NULL DEFAULT '',
  reported_at timestamptz NOT NULL,
  PRIMARY KEY (device_id, report_id)
);

CREATE INDEX device_reports_history_idx ON device_reports (device_id, reported_at);

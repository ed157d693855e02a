-- Campaigns (design.md section 6): staged rollouts driven by any catalog
-- replica from this durable state. A replica works on a campaign only while
-- it holds the campaign's row lock (SELECT ... FOR UPDATE SKIP LOCKED), so
-- two replicas never announce the same wave twice.
CREATE TABLE campaigns (
  campaign_id  text PRIMARY KEY,
  release_id   text NOT NULL REFERENCES releases (release_id),
  -- A serialized updraft.v1.CampaignSpec.
  spec         bytea NOT NULL,
  state        text NOT NULL CHECK (state IN ('CAMPAIGN_RUNNING', 'CAMPAIGN_PAUSED',
                 'CAMPAIGN_CANCELLED', 'CAMPAIGN_COMPLETED', 'CAMPAIGN_EXPIRED')),
  state_reason text NOT NULL DEFAULT '',
  current_wave integer NOT NULL DEFAULT 0,
  software_name text NOT NULL,
  created_by   text NOT NULL,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL
);
CREATE INDEX campaigns_active_idx ON campaigns (campaign_id)
  WHERE state IN ('CAMPAIGN_RUNNING', 'CAMPAIGN_PAUSED');

-- One row per target device. wave 0: queued (not yet in a wave).
CREATE TABLE campaign_devices (
  campaign_id text NOT NULL REFERENCES campaigns (campaign_id),
  device_id   text NOT NULL,
  wave        integer NOT NULL,
  state       text NOT NULL,
  -- Random order in which queued devices enter waves.
  rank        bigint NOT NULL,
  attempts    integer NOT NULL DEFAULT 0,
  last_result integer NOT NULL DEFAULT 0,
  notify_at   timestamptz,
  updated_at  timestamptz NOT NULL,
  PRIMARY KEY (campaign_id, device_id)
);
CREATE INDEX campaign_devices_device_idx ON campaign_devices (device_id);
CREATE INDEX campaign_devices_queue_idx ON campaign_devices (campaign_id, rank)
  WHERE wave = 0;
CREATE INDEX campaign_devices_due_idx ON campaign_devices (campaign_id, notify_at)
  WHERE state = 'CAMPAIGN_DEVICE_PENDING';

-- Everything that happened, for WatchCampaign and webhooks.
CREATE TABLE campaign_events (
  event_id    bigserial PRIMARY KEY,
  campaign_id text NOT NULL REFERENCES campaigns (campaign_id),
  -- A serialized updraft.v1.CampaignEvent (event_id left out).
  event       bytea NOT NULL,
  created_at  timestamptz NOT NULL,
  -- Database time of the insert: event IDs are taken before commit, so a
  -- reader following IDs re-reads the last few seconds (see Events()).
  inserted_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX campaign_events_campaign_idx ON campaign_events (campaign_id, event_id);

-- Latest attributes of every device that checked for updates (written only
-- when they change), for attribute filters and quiet hours.
CREATE TABLE device_attributes (
  device_id  text PRIMARY KEY,
  model      text NOT NULL,
  os_version text NOT NULL,
  carrier    text NOT NULL,
  time_zone  text NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX device_attributes_model_idx ON device_attributes (model);

CREATE TABLE campaign_webhooks (
  webhook_id  text PRIMARY KEY,
  url         text NOT NULL,
  secret      text NOT NULL,
  campaign_id text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL
);

-- One row per (webhook, event) to deliver, written with the event.
CREATE TABLE campaign_webhook_deliveries (
  delivery_id     bigserial PRIMARY KEY,
  webhook_id      text NOT NULL REFERENCES campaign_webhooks (webhook_id) ON DELETE CASCADE,
  event_id        bigint NOT NULL REFERENCES campaign_events (event_id),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  delivered_at    timestamptz,
  gave_up         boolean NOT NULL DEFAULT false,
  last_error      text NOT NULL DEFAULT ''
);
CREATE INDEX campaign_webhook_deliveries_due_idx ON campaign_webhook_deliveries (next_attempt_at)
  WHERE delivered_at IS NULL AND NOT gave_up;

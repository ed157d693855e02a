-- Reports that arrive within the same clock tick must keep their arrival
-- order in a device's history: number them as they are recorded.
ALTER TABLE device_reports ADD COLUMN seq bigserial;
CREATE INDEX device_reports_seq_idx ON device_reports (device_id, seq);

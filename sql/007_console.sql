-- The console's fleet summary counts the readings of the last minute (storage/FleetSummaryStore). A BRIN
-- index on ts finds those blocks of today's partition without a scan: readings arrive in time order, so
-- each block range covers a narrow span of ts, and the index costs a few pages per partition.
CREATE INDEX telemetry_ts_brin_idx ON pulse.telemetry USING brin (ts);

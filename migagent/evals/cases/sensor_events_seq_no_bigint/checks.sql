SELECT id, seq_no FROM sensor_events ORDER BY id;
SELECT max(seq_no) + 1000 FROM sensor_events;

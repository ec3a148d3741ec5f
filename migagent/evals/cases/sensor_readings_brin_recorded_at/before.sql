CREATE TABLE sensor_readings (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id INTEGER NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    temperature NUMERIC(5, 2),
    humidity NUMERIC(5, 2)
);

INSERT INTO sensor_readings (device_id, recorded_at, temperature, humidity)
SELECT g % 8 + 1, timestamp '2024-01-01 00:00' + g * interval '30 seconds', 18 + (g % 90) / 10.0, 40 + (g % 200) / 10.0
FROM generate_series(1, 200) AS g;

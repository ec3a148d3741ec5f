SELECT id, distance_m, distance_km FROM trips ORDER BY id;
SELECT count(*) FROM trips WHERE distance_km IS NULL;

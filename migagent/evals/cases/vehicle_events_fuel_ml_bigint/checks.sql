SELECT id, total_fuel_ml FROM vehicle_events ORDER BY id;
SELECT max(total_fuel_ml) + 3000000000 FROM vehicle_events;

SELECT p.id, p.trip_id, t.vehicle_id FROM gps_pings p JOIN trips t ON t.id = p.trip_id ORDER BY p.id;

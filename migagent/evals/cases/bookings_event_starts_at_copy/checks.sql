SELECT id, event_id, event_starts_at FROM bookings ORDER BY id;

SELECT id, room_id, booked_by, lower(during), upper(during) FROM room_bookings ORDER BY id;

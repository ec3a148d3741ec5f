SELECT id, serial_number, model, is_active FROM devices ORDER BY id;

SELECT id, full_name, license_number FROM drivers ORDER BY id;

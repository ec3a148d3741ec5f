SELECT id, mrn, date_of_birth FROM patients ORDER BY id;

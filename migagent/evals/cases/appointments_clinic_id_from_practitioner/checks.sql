SELECT id, practitioner_id, clinic_id FROM appointments ORDER BY id;
SELECT count(*) FROM appointments a JOIN practitioners p ON p.id = a.practitioner_id WHERE a.clinic_id <> p.clinic_id;

SELECT id, notes FROM workout_logs ORDER BY id

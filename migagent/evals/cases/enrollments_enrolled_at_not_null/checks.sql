SELECT id, enrolled_at, created_at FROM enrollments ORDER BY id;
SELECT count(*) FROM enrollments WHERE enrolled_at = created_at;

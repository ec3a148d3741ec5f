SELECT id, servings FROM recipes ORDER BY id;
SELECT servings, count(*) FROM recipes GROUP BY servings ORDER BY servings;

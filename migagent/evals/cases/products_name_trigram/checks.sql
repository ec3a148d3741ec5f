SELECT id, name FROM products WHERE name ILIKE '%espresso%' ORDER BY id;
SELECT id, round(similarity(name, 'organic teapot')::numeric, 3) FROM products WHERE name % 'organic teapot' ORDER BY id;

SELECT id, due_on FROM court_deadlines ORDER BY id

SELECT t.id, t.assignee_id, a.name FROM tickets t LEFT JOIN agents a ON a.id = t.assignee_id ORDER BY t.id;

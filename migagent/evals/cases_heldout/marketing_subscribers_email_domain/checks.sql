SELECT id, email_domain FROM subscribers ORDER BY id

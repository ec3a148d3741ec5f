SELECT id, customer_id, plan, status, seats, renews_at FROM subscriptions ORDER BY id;

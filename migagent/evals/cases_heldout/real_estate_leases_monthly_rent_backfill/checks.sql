SELECT id, monthly_rent FROM leases ORDER BY id

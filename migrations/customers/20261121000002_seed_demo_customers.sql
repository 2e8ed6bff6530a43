-- Demo customers: ordinary ones, one blocked, and one with a low credit limit.
INSERT INTO customers (id, email, name, status, credit_limit) VALUES
    ('0193a000-0000-7000-8000-000000000001', 'ada@example.com',     'Ada Lovelace',    'active',  5000.00),
    ('0193a000-0000-7000-8000-000000000002', 'grace@example.com',   'Grace Hopper',    'active',  5000.00),
    ('0193a000-0000-7000-8000-000000000003', 'alan@example.com',    'Alan Turing',     'active',  2500.00),
    ('0193a000-0000-7000-8000-000000000004', 'blocked@example.com', 'Mallory Blocked', 'blocked', 5000.00),
    ('0193a000-0000-7000-8000-000000000005', 'lowcredit@example.com', 'Lou Credit',    'active',    50.00)
ON CONFLICT DO NOTHING;

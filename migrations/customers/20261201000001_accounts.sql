-- Accounts: a customer with a password signs in (POST /api/v1/sessions) and
-- only they, signed in, buy with its email and credit. Guests created by a
-- checkout have none. Only a slow salted hash (argon2id, PHC string) is kept.
ALTER TABLE customers
    ADD COLUMN password_hash text CHECK (password_hash IS NULL OR password_hash LIKE '$argon2%');

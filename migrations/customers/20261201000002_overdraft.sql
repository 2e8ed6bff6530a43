-- A confirmed order is a real debt: when its confirmation arrives after its
-- reservation lapsed and the credit was spent meanwhile (or with no
-- reservation at all), it is charged anyway and the customer goes over the
-- limit. New holds are still refused beyond the limit (by the verification,
-- under the customer's row lock), and a limit below what is in use is still
-- refused (by the update). What stays enforced here: nothing negative.
ALTER TABLE customers DROP CONSTRAINT credit_available_not_negative;

-- A customer's message no longer locks its contact's row nor its business
-- number's row.
--
-- The foreign keys messages.contact_id -> contacts and messages.number_id
-- -> numbers were checked on every insert with a FOR KEY SHARE lock on the
-- referenced row: a write to the contact's heap page per message, and, as
-- every message of a business number locks that one number's row, a
-- multixact shared by every webhook in flight.  A pgbench A/B of the
-- inbound statement alone measured the contact key at 10-20 %.  wadesk
-- never deletes a number, and deletes a contact only after moving its
-- messages (wadesk_contact_merge), so the keys guarded nothing the code
-- does; their indexes stay.
ALTER TABLE messages DROP CONSTRAINT messages_contact_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_number_id_fkey;

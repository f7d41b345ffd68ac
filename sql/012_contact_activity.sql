-- A customer's message no longer writes its contact row every time.
--
-- Until now each inbound message updated its contact (unread + 1, the last
-- inbound time): a second row written per message, with new entries in
-- every index of contacts since last_inbound_at is indexed.  Now:
--  * unread is counted, not kept: the inbound messages after read_upto,
--    the newest message an agent has seen (messages_contact_id makes that
--    one short index range per contact);
--  * last_inbound_at is the conversation list's order and is written only
--    when it moves by more than a minute (or the conversation reopens);
--    the exact time of the last customer message, and the 24-hour window
--    that follows from it, are read from the messages themselves
--    (wadesk_last_inbound).

ALTER TABLE contacts ADD COLUMN read_upto bigint NOT NULL DEFAULT 0;
-- The same unread counts as before: read up to the inbound message just
-- before the last `unread` ones.
UPDATE contacts c SET read_upto = coalesce((SELECT m.id FROM messages m
	WHERE m.contact_id = c.id AND m.direction = 'inbound'
	    AND m.type <> 'system'
	ORDER BY m.id DESC OFFSET c.unread LIMIT 1), 0);
ALTER TABLE contacts DROP COLUMN unread;

-- Contact cid's unread messages (counted up to 9,999): customer messages
-- after upto that no agent has seen.  A system notice is WhatsApp's, not
-- the customer's: never unread.
CREATE FUNCTION wadesk_unread(cid bigint, upto bigint) RETURNS bigint
STABLE LANGUAGE sql AS $$
	SELECT count(*) FROM (SELECT 1 FROM messages
	    WHERE contact_id = cid AND id > upto AND direction = 'inbound'
	        AND type <> 'system'
	    LIMIT 9999) u
$$;

-- The time of contact cid's last customer message: contacts.last_inbound_at
-- (coarse, up to a minute behind) or the newest customer message, whichever
-- is later; NULL when the customer never wrote.
CREATE FUNCTION wadesk_last_inbound(cid bigint, coarse timestamptz)
RETURNS timestamptz STABLE LANGUAGE sql AS $$
	SELECT CASE WHEN coarse IS NULL THEN NULL ELSE greatest(coarse,
	    (SELECT created_at FROM messages WHERE contact_id = cid
	        AND direction = 'inbound' AND type <> 'system'
	    ORDER BY id DESC LIMIT 1)) END
$$;

-- A new message from the customer: the conversation open again, the list's
-- time moved on when it is a minute or more behind.  Nothing is written in
-- the common case (an open conversation, a customer writing again).
CREATE OR REPLACE FUNCTION wadesk_contact_seen(cid bigint, at timestamptz)
RETURNS void LANGUAGE sql AS $$
	UPDATE contacts SET state = 'open',
	    last_inbound_at = greatest(last_inbound_at, at), updated_at = now()
	WHERE id = cid AND (state <> 'open' OR last_inbound_at IS NULL
	    OR last_inbound_at < at - interval '1 minute')
$$;

-- As in sql/011; a merged contact's unread messages stay unread.
CREATE OR REPLACE FUNCTION wadesk_contact_merge(src bigint, dst bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	s contacts%ROWTYPE;
	first_unread bigint;
BEGIN
	IF src = dst THEN
		RETURN;
	END IF;
	SELECT min(m.id) INTO first_unread FROM messages m, contacts c
	WHERE c.id = src AND m.contact_id = src AND m.id > c.read_upto
	    AND m.direction = 'inbound' AND m.type <> 'system';
	UPDATE messages SET contact_id = dst WHERE contact_id = src;
	DELETE FROM contacts WHERE id = src RETURNING * INTO s;
	UPDATE contacts SET
	    phone = coalesce(phone, s.phone),
	    user_id = coalesce(user_id, s.user_id),
	    parent_user_id = coalesce(parent_user_id, s.parent_user_id),
	    username = coalesce(username, s.username),
	    name = coalesce(name, s.name),
	    last_inbound_at = greatest(last_inbound_at, s.last_inbound_at),
	    assignee_id = coalesce(assignee_id, s.assignee_id),
	    read_upto = CASE WHEN first_unread IS NULL THEN read_upto
	        ELSE least(read_upto, first_unread - 1) END,
	    updated_at = now()
	WHERE id = dst;
END
$$;

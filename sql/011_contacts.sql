-- wadesk schema, version 11: customers as contacts (known by a phone
-- number, a business-scoped user id or both), message types, replies,
-- reactions and the raw item WhatsApp sent; the played status.

-- queued < sent < delivered < read < played; failed and received stand apart.
CREATE OR REPLACE FUNCTION wadesk_status_rank(s text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE s WHEN 'queued' THEN 0 WHEN 'sent' THEN 1
	    WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'played' THEN 4
	    ELSE NULL END
$$;

ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
	CHECK (status IN ('queued', 'sent', 'delivered', 'read', 'played',
	    'failed', 'received'));

-- One row per customer.  phone is E.164 with '+'; user_id is WhatsApp's
-- business-scoped user id (BSUID, e.g. US.13491208655302741918).
CREATE TABLE contacts (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	phone		text UNIQUE,
	user_id		text UNIQUE,
	parent_user_id	text,
	username	text,
	name		text,
	last_inbound_at	timestamptz,
	state		text NOT NULL DEFAULT 'open'
			CHECK (state IN ('open', 'resolved')),
	assignee_id	integer REFERENCES admin_users (id) ON DELETE SET NULL,
	unread		integer NOT NULL DEFAULT 0 CHECK (unread >= 0),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (phone IS NOT NULL OR user_id IS NOT NULL)
);
-- The conversation list: most recent customer message first.
CREATE INDEX contacts_recent ON contacts (last_inbound_at DESC NULLS LAST, id);
CREATE INDEX contacts_assignee ON contacts (assignee_id) WHERE assignee_id
	IS NOT NULL;

ALTER TABLE messages
	ADD COLUMN contact_id bigint REFERENCES contacts (id),
	ADD COLUMN type text NOT NULL DEFAULT 'text',
	ADD COLUMN reply_to bigint REFERENCES messages (id) ON DELETE SET NULL,
	ADD COLUMN reactions jsonb,
	ADD COLUMN raw jsonb;

-- Existing messages: one contact per customer (a phone number; anything
-- else as a user id, so that no message is left without a contact).
INSERT INTO contacts (phone, user_id, name, last_inbound_at)
SELECT CASE WHEN customer ~ '^\+[1-9][0-9]{6,14}$' THEN customer END,
    CASE WHEN customer !~ '^\+[1-9][0-9]{6,14}$' THEN customer END,
    (array_agg(contact_name ORDER BY id DESC)
	FILTER (WHERE contact_name IS NOT NULL))[1],
    max(created_at) FILTER (WHERE direction = 'inbound')
FROM (SELECT id, direction, contact_name, created_at,
	CASE direction WHEN 'inbound' THEN sender ELSE receiver END AS customer
    FROM messages) m
GROUP BY customer;
UPDATE messages m SET contact_id = c.id FROM contacts c
	WHERE coalesce(c.phone, c.user_id) = CASE m.direction
	    WHEN 'inbound' THEN m.sender ELSE m.receiver END;
ALTER TABLE messages ALTER COLUMN contact_id SET NOT NULL;
-- A conversation: one contact's messages, newest first.
CREATE INDEX messages_contact_id ON messages (contact_id, id);
-- The replies to a message: what deleting it must unlink (without this
-- index every deleted message scans the table).
CREATE INDEX messages_reply_to ON messages (reply_to)
	WHERE reply_to IS NOT NULL;

-- Moves everything of contact src into contact dst and deletes src: one
-- customer had come to have two contacts (a phone-only one from a send,
-- a BSUID-only one from a message) until a message carried both.
CREATE FUNCTION wadesk_contact_merge(src bigint, dst bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	s contacts%ROWTYPE;
BEGIN
	IF src = dst THEN
		RETURN;
	END IF;
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
	    unread = unread + coalesce(s.unread, 0),
	    updated_at = now()
	WHERE id = dst;
END
$$;

-- The contact of a customer known by p_phone, p_user_id or both (at least
-- one), created when new; what the message says about the customer
-- (username, profile name, parent id) is kept, and a phone and a BSUID that
-- arrive together join their contacts into one.  Concurrent first messages
-- of one customer find each other (an insert that conflicts is retried as a
-- lookup).
CREATE FUNCTION wadesk_contact(p_phone text, p_user_id text, p_parent text,
    p_username text, p_name text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	by_phone bigint;
	by_user bigint;
	found_id bigint;
BEGIN
	IF p_phone IS NULL AND p_user_id IS NULL THEN
		RAISE EXCEPTION 'a contact needs a phone or a user id';
	END IF;
	LOOP
		by_phone := NULL;
		by_user := NULL;
		IF p_user_id IS NOT NULL THEN
			SELECT id INTO by_user FROM contacts
			    WHERE user_id = p_user_id;
		END IF;
		IF p_phone IS NOT NULL THEN
			SELECT id INTO by_phone FROM contacts WHERE phone = p_phone;
		END IF;
		IF by_user IS NOT NULL AND by_phone IS NOT NULL AND
		    by_user <> by_phone THEN
			PERFORM wadesk_contact_merge(by_phone, by_user);
		END IF;
		found_id := coalesce(by_user, by_phone);
		IF found_id IS NOT NULL THEN
			-- Only when something changes: no new row version for
			-- every message.
			UPDATE contacts SET
			    phone = coalesce(p_phone, phone),
			    user_id = coalesce(p_user_id, user_id),
			    parent_user_id = coalesce(p_parent, parent_user_id),
			    username = coalesce(p_username, username),
			    name = coalesce(p_name, name),
			    updated_at = now()
			WHERE id = found_id AND (
			    phone IS DISTINCT FROM coalesce(p_phone, phone) OR
			    user_id IS DISTINCT FROM coalesce(p_user_id, user_id) OR
			    parent_user_id IS DISTINCT FROM
				coalesce(p_parent, parent_user_id) OR
			    username IS DISTINCT FROM
				coalesce(p_username, username) OR
			    name IS DISTINCT FROM coalesce(p_name, name));
			RETURN found_id;
		END IF;
		-- No exception block (a subtransaction per new customer): a
		-- concurrent first message of the same customer makes this
		-- insert do nothing, and the loop finds that contact.
		INSERT INTO contacts (phone, user_id, parent_user_id, username,
		    name)
		VALUES (p_phone, p_user_id, p_parent, p_username, p_name)
		ON CONFLICT DO NOTHING
		RETURNING id INTO found_id;
		IF found_id IS NOT NULL THEN
			RETURN found_id;
		END IF;
	END LOOP;
END
$$;

-- A customer's number or BSUID changed (WhatsApp's system message
-- user_changed_number / user_changed_user_id): the contact known by the
-- old identifiers takes the new ones and keeps its whole history; a
-- contact that already had a new one is merged into it.
CREATE FUNCTION wadesk_contact_change(old_phone text, old_user_id text,
    new_phone text, new_user_id text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	cid bigint;
	other bigint;
BEGIN
	cid := wadesk_contact(old_phone, old_user_id, NULL, NULL, NULL);
	IF new_phone IS NOT NULL THEN
		SELECT id INTO other FROM contacts
		    WHERE phone = new_phone AND id <> cid;
		IF other IS NOT NULL THEN
			PERFORM wadesk_contact_merge(other, cid);
		END IF;
	END IF;
	other := NULL;
	IF new_user_id IS NOT NULL THEN
		SELECT id INTO other FROM contacts
		    WHERE user_id = new_user_id AND id <> cid;
		IF other IS NOT NULL THEN
			PERFORM wadesk_contact_merge(other, cid);
		END IF;
	END IF;
	-- The merged contact's identifiers were only kept where cid had none.
	UPDATE contacts SET phone = coalesce(new_phone, phone),
	    user_id = coalesce(new_user_id, user_id), updated_at = now()
	WHERE id = cid;
	RETURN cid;
END
$$;

-- A new message from the customer: unread, the conversation open again,
-- the customer service window measured from it.
CREATE FUNCTION wadesk_contact_seen(cid bigint, at timestamptz)
RETURNS void LANGUAGE sql AS $$
	UPDATE contacts SET unread = unread + 1, state = 'open',
	    last_inbound_at = greatest(last_inbound_at, at), updated_at = now()
	WHERE id = cid
$$;

-- A message written without a contact (by hand, by an older tool) gets the
-- contact of its customer: the sender of an inbound message, the receiver
-- of an outbound one.  wadesk's own statements always name the contact, so
-- the trigger does not even run for them.
CREATE FUNCTION wadesk_message_contact() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	customer text := CASE NEW.direction WHEN 'inbound' THEN NEW.sender
	    ELSE NEW.receiver END;
BEGIN
	IF customer ~ '^\+[1-9][0-9]{6,14}$' THEN
		NEW.contact_id := wadesk_contact(customer, NULL, NULL, NULL,
		    NEW.contact_name);
	ELSE
		NEW.contact_id := wadesk_contact(NULL, customer, NULL, NULL,
		    NEW.contact_name);
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER messages_contact BEFORE INSERT ON messages FOR EACH ROW
	WHEN (NEW.contact_id IS NULL) EXECUTE FUNCTION wadesk_message_contact();

-- Business numbers: the WhatsApp numbers of this deployment.  A number is
-- known by WhatsApp's phone number id (what the Cloud API's URL and a
-- webhook's metadata name) and by its display number in E.164 form (what a
-- send's sender names); at least one of the two.  A number known only by
-- its display (WADESK_BUSINESS_NUMBER without WADESK_PHONE_NUMBER_ID, as
-- with the simulator) sends through WADESK_PHONE_NUMBER_ID.
CREATE TABLE numbers (
	id		bigserial PRIMARY KEY,
	phone_number_id	text UNIQUE,
	display		text UNIQUE,
	name		text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (phone_number_id IS NOT NULL OR display IS NOT NULL)
);

-- The number a message is with (NULL: not known).  No index of its own
-- for the writes' sake: the admin's number filter rides on the id order.
ALTER TABLE messages ADD COLUMN number_id bigint REFERENCES numbers (id);

-- The number of WhatsApp phone number id p (display d from the webhook's
-- metadata, may be NULL), created when new; safe against concurrent first
-- webhooks.  A display another number already holds is not taken twice
-- (the new number has none).
CREATE FUNCTION wadesk_number(p text, d text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	r bigint;
BEGIN
	SELECT id INTO r FROM numbers WHERE phone_number_id = p;
	IF FOUND THEN
		RETURN r;
	END IF;
	INSERT INTO numbers (phone_number_id, display)
	    VALUES (p, CASE WHEN EXISTS (SELECT 1 FROM numbers
	    WHERE display = d) THEN NULL ELSE d END)
	    ON CONFLICT DO NOTHING RETURNING id INTO r;
	IF FOUND THEN
		RETURN r;
	END IF;
	SELECT id INTO r FROM numbers WHERE phone_number_id = p;
	RETURN r;
END
$$;

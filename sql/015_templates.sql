-- Message templates: what may be sent to a customer whose 24-hour window
-- is closed.  Loaded from WhatsApp (wadesk templates sync, the dispatcher's
-- periodic sync) or, with the simulated provider, from a built-in catalog.
CREATE TABLE templates (
	name		text NOT NULL,
	language	text NOT NULL,
	category	text NOT NULL DEFAULT '',
	status		text NOT NULL,
	-- WhatsApp's template id, when known (status webhooks name it).
	whatsapp_id	text,
	-- POSITIONAL ({{1}} ...) or NAMED ({{first_name}} ...).
	parameter_format text NOT NULL DEFAULT 'POSITIONAL'
			CHECK (parameter_format IN ('POSITIONAL', 'NAMED')),
	-- The BODY component's text, and the parameter names in the order
	-- they first appear in it ("1", "2", ... for positional ones).
	body		text NOT NULL DEFAULT '',
	parameters	text[] NOT NULL DEFAULT '{}',
	-- Every component as WhatsApp gave it (header, body, footer,
	-- buttons), so nothing it sent is lost.
	components	jsonb NOT NULL DEFAULT '[]',
	synced_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (name, language)
);
CREATE INDEX templates_whatsapp_id ON templates (whatsapp_id)
	WHERE whatsapp_id IS NOT NULL;

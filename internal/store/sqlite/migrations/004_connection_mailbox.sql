-- A connection's bounce mailbox, polled over IMAP (vendors smtp and ocimail). imap_secret
-- is the IMAP username and password sealed by the caller (bound to public_id, apart from
-- the webhook credentials so that rotating those keeps the mailbox). imap_url '' = none.
ALTER TABLE connections ADD COLUMN imap_url TEXT NOT NULL DEFAULT '';
ALTER TABLE connections ADD COLUMN imap_poll_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN imap_delete INTEGER NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN imap_secret BLOB;

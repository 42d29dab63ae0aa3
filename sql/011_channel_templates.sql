-- 011: a channel's message templates (services/MessageTemplates.h): {"title": ..., "text": ...}, either one
-- absent for the sender's own wording. Kept apart from the plugin's config, which the plugin's schema owns.
ALTER TABLE pulse.channels ADD COLUMN templates jsonb NOT NULL DEFAULT '{}'::jsonb
    CHECK (jsonb_typeof(templates) = 'object');

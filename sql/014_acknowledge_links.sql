-- 014: acknowledge links. An opening's or a page's message carries a signed, expiring link that acknowledges
-- the alert without signing in; the signature and expiry are pulsed's (services/AcknowledgeLinks), and single
-- use is this column: the first use of a delivery's link sets it, every later one is refused.
ALTER TABLE pulse.deliveries ADD COLUMN ack_link_used_at timestamptz;

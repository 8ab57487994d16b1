-- Seat addresses compare without letter case (ASCII letters, as Tollgate folds them): one seat
-- per person and org. Earlier versions stored addresses as typed, so `Bob@x.test` and
-- `bob@x.test` could hold two seats. Such seats are merged into the oldest (lowest id): it is
-- active if any of them was, an admin if an active one was, and it takes over their tokens and
-- download events. Then every stored address is folded, and a unique index keeps the rule.

CREATE TEMP TABLE seat_keys AS
    SELECT id, MIN(id) OVER (PARTITION BY org_id, lower(email)) AS keep FROM seats;

UPDATE tokens SET seat_id = (SELECT keep FROM seat_keys WHERE seat_keys.id = tokens.seat_id)
WHERE seat_id IN (SELECT id FROM seat_keys WHERE id <> keep);
UPDATE download_events
SET seat_id = (SELECT keep FROM seat_keys WHERE seat_keys.id = download_events.seat_id)
WHERE seat_id IN (SELECT id FROM seat_keys WHERE id <> keep);

UPDATE seats SET
    role = CASE
        WHEN EXISTS (SELECT 1 FROM seat_keys k JOIN seats d ON d.id = k.id
                     WHERE k.keep = seats.id AND d.active = 1 AND d.role = 'admin') THEN 'admin'
        WHEN EXISTS (SELECT 1 FROM seat_keys k JOIN seats d ON d.id = k.id
                     WHERE k.keep = seats.id AND d.active = 1) THEN 'member'
        ELSE role
    END,
    revoked_at = CASE
        WHEN EXISTS (SELECT 1 FROM seat_keys k JOIN seats d ON d.id = k.id
                     WHERE k.keep = seats.id AND d.active = 1) THEN NULL
        ELSE revoked_at
    END,
    active = (SELECT MAX(d.active) FROM seat_keys k JOIN seats d ON d.id = k.id
              WHERE k.keep = seats.id)
WHERE id IN (SELECT keep FROM seat_keys WHERE id <> keep);

DELETE FROM seats WHERE id IN (SELECT id FROM seat_keys WHERE id <> keep);
DROP TABLE seat_keys;

UPDATE seats SET email = lower(email) WHERE email <> lower(email);
UPDATE web_links SET email = lower(email) WHERE email <> lower(email);
UPDATE web_sign_in_requests SET email = lower(email) WHERE email <> lower(email);

CREATE UNIQUE INDEX seats_org_folded_email ON seats(org_id, lower(email));

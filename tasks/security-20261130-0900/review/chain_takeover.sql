-- as evil_admin (granted The White Horse only)
SELECT restaurant_id FROM autoassign.stats WHERE restaurant_id NOT IN (SELECT id FROM autoassign.restaurants) LIMIT 1 \gset
BEGIN;
INSERT INTO autoassign.restaurants (id, name) VALUES (:'restaurant_id', 'x') ON CONFLICT DO NOTHING;
SELECT name FROM autoassign.restaurants WHERE id = :'restaurant_id';
SELECT count(*) AS b_bookings FROM autoassign.bookings WHERE restaurant_id = :'restaurant_id';
SELECT autoassign.autoassign_revoke_restaurant(:'restaurant_id', 'booking_app');
SELECT autoassign.autoassign_grant_restaurant(:'restaurant_id', 'evil_app');
SELECT id AS victim FROM autoassign.bookings WHERE restaurant_id = :'restaurant_id' AND status = 'pending' LIMIT 1 \gset
SELECT ok, status FROM autoassign.autoassign_cancel(:'victim');
ROLLBACK;

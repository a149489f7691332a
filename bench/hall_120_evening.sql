-- The evening on the 120-table floor named :hall (bench/hall_120.sql): 2,000 bookings
-- from 17:00 over five hours, about 190 of them confirmed as on a real evening.
INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at)
SELECT r.id, 2 + g % 5, '2032-03-05 17:00+00'::timestamptz + make_interval(mins => (g * 7) % 300)
  FROM autoassign.restaurants r, generate_series(1, 2000) g WHERE r.name = :'hall';
SELECT count(*) FILTER (WHERE c.ok) AS confirmed
  FROM (SELECT b.id FROM autoassign.bookings b JOIN autoassign.restaurants r ON r.id = b.restaurant_id
         WHERE r.name = :'hall' ORDER BY b.id LIMIT 200) b,
       LATERAL autoassign.autoassign_confirm(b.id, source => 'bench') c;

-- Moves an active session's last_seen forward (never back, never on a tombstone) without
-- changing its version, and moves the key's real-time expiry with it. The expiry index entry
-- keeps its score: a later purge time leaves that score a lower bound, which the sweeper
-- corrects when it reaches the entry. So a touch is one key, one slot, one round trip.
-- KEYS[1]: the session hash. ARGV: 1 at (ms), 2 margin_ms.
-- Returns 1 if last_seen moved, 0 otherwise (absent, tombstone, or not later).
local cur = redis.call('HMGET', KEYS[1], 'a', 't', 'i', 'x')
if cur[1] ~= '1' then
  return 0
end
local at = tonumber(ARGV[1])
if at <= tonumber(cur[2]) then
  return 0
end
redis.call('HSET', KEYS[1], 't', ARGV[1])
expire_after(KEYS[1], purge_time('1', at, tonumber(cur[3]), tonumber(cur[4])), tonumber(ARGV[2]))
return 1

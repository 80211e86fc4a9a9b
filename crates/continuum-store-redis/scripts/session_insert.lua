-- Inserts a session unless its key exists (SET-if-absent semantics).
-- KEYS[1]: the session hash. On a single server also KEYS[2], the principal's set, and KEYS[3],
-- the session's expiry shard, written in the same atomic step; on a cluster they live on other
-- slots and the store writes them alongside.
-- ARGV: 1 json, 2 version, 3 principal, 4 active, 5 last_seen, 6 idle_ms, 7 absolute,
--       8 purge_at, 9 margin_ms, 10 sid, 11 expiry index entry.
-- Returns 1 if inserted, 0 if a session with this id exists.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'j', ARGV[1], 'v', ARGV[2], 'p', ARGV[3], 'a', ARGV[4], 't', ARGV[5],
  'i', ARGV[6], 'x', ARGV[7], 'e', ARGV[8])
expire_after(KEYS[1], tonumber(ARGV[8]), tonumber(ARGV[9]))
if #KEYS == 3 then
  redis.call('SADD', KEYS[2], ARGV[10])
  redis.call('ZADD', KEYS[3], 'LT', ARGV[8], ARGV[11])
end
return 1

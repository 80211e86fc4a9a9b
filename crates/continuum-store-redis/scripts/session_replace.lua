-- Compare-and-swap on the version, with the checks of continuum_store::cas::check_replace in
-- the same order: absent, version conflict, principal changed, version not increased. (The sid
-- cannot change: the key is the sid.)
-- KEYS[1]: the session hash. On a single server also KEYS[2], the session's expiry shard.
-- ARGV: 1 json, 2 version, 3 principal, 4 active, 5 last_seen, 6 idle_ms, 7 absolute,
--       8 margin_ms, 9 expected version, 10 '1' if version > expected, 11 expiry index entry.
-- Returns {'ok'}; {'ok', score} on a cluster when the expiry index entry must be lowered to
-- score; {'missing'}; {'conflict', stored version}; {'principal'}; {'version'}.
local cur = redis.call('HMGET', KEYS[1], 'v', 'p', 't', 'e')
if not cur[1] then
  return {'missing'}
end
if cur[1] ~= ARGV[9] then
  return {'conflict', cur[1]}
end
if cur[2] ~= ARGV[3] then
  return {'principal'}
end
if ARGV[10] ~= '1' then
  return {'version'}
end
-- A touch may have moved last_seen past the one this write was based on (touches keep the
-- version, so the compare-and-swap cannot see them): keep the later one.
local last_seen = ARGV[5]
if tonumber(cur[3]) > tonumber(last_seen) then
  last_seen = cur[3]
end
local purge_at = purge_time(ARGV[4], tonumber(last_seen), tonumber(ARGV[6]), tonumber(ARGV[7]))
redis.call('HSET', KEYS[1], 'j', ARGV[1], 'v', ARGV[2], 'a', ARGV[4], 't', last_seen,
  'i', ARGV[6], 'x', ARGV[7])
expire_after(KEYS[1], purge_at, tonumber(ARGV[8]))
-- The index score must stay at or before the purge time. Later is fine (the sweeper rescores);
-- earlier needs the entry lowered.
if purge_at < tonumber(cur[4]) then
  local score = string.format('%.0f', purge_at)
  redis.call('HSET', KEYS[1], 'e', score)
  if #KEYS == 2 then
    redis.call('ZADD', KEYS[2], 'LT', score, ARGV[11])
  else
    return {'ok', score}
  end
end
return {'ok'}

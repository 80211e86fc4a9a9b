-- Deletes one session whose expiry index entry is due, if the session really is due: the
-- entry's score is only a lower bound of its purge time (touches move the purge time later
-- without rescoring the entry).
-- KEYS[1]: the session hash. On a single server also KEYS[2], the principal's set, and
-- KEYS[3], the expiry shard, cleaned in the same atomic step.
-- ARGV: 1 now (ms), 2 the principal named by the entry, 3 sid, 4 the entry.
-- Returns {'purged', active} (active: '1' if the session was active, '0' for a tombstone); {'gone'} when no session of that principal has this id (Redis expired
-- the key, or its insert never happened); {'later', score} when it is not due, score being
-- its purge time, which the entry must be given.
local cur = redis.call('HMGET', KEYS[1], 'p', 'a', 't', 'i', 'x')
local result
if cur[1] ~= ARGV[2] then
  result = {'gone'}
else
  local purge_at = purge_time(cur[2], tonumber(cur[3]), tonumber(cur[4]), tonumber(cur[5]))
  if purge_at > tonumber(ARGV[1]) then
    local score = string.format('%.0f', purge_at)
    redis.call('HSET', KEYS[1], 'e', score)
    if #KEYS == 3 then
      redis.call('ZADD', KEYS[3], 'XX', score, ARGV[4])
    end
    return {'later', score}
  end
  redis.call('DEL', KEYS[1])
  result = {'purged', cur[2]}
end
if #KEYS == 3 then
  redis.call('SREM', KEYS[2], ARGV[3])
  redis.call('ZREM', KEYS[3], ARGV[4])
end
return result

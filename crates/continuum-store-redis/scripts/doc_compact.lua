-- Replaces the snapshot and the updates through `through` by a new snapshot, atomically, if
-- continuum_store::docs::check_compaction allows it (through between the current snapshot's
-- and last_seq, both included); changes nothing otherwise.
-- KEYS: 1 meta, 2 updates, 3 snapshot, 4 the scope's names. ARGV: 1 snapshot, 2 through,
-- 3 document name.
-- Returns {'ok'} or {'refused', last_seq, compacted_through}.
local meta = redis.call('HMGET', KEYS[1], 'last', 'ct')
local last = meta[1] or '0'
local compacted = meta[2] or '0'
local through = tonumber(ARGV[2])
if through > tonumber(last) or through < tonumber(compacted) then
  return {'refused', last, compacted}
end
-- The list holds updates compacted + 1 ..= last; drop the first through - compacted of them.
local drop = through - tonumber(compacted)
if drop > 0 then
  redis.call('LTRIM', KEYS[2], string.format('%.0f', drop), -1)
end
redis.call('SET', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[1], 'ct', ARGV[2], 'last', last)
redis.call('SADD', KEYS[4], ARGV[3])
return {'ok'}

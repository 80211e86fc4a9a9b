-- Stores a named version: the next id, its metadata and its state, atomically.
-- KEYS: 1 meta, 2 version metadata, 3 version states, 4 the scope's names.
-- ARGV: 1 created_at (ms), 2 version name, 3 state, 4 document name.
-- Returns the version's id.
local id = redis.call('HINCRBY', KEYS[1], 'vn', 1)
redis.call('HSET', KEYS[2], id, ARGV[1] .. ':' .. ARGV[2])
redis.call('HSET', KEYS[3], id, ARGV[3])
redis.call('SADD', KEYS[4], ARGV[4])
return id

-- Appends one update: the next sequence number and the update, atomically, so concurrent
-- appends get distinct numbers and the list always holds exactly the updates numbered
-- compacted_through + 1 ..= last_seq, in order.
-- KEYS: 1 meta, 2 updates, 3 the scope's names. ARGV: 1 update, 2 document name.
-- Returns the update's sequence number.
local seq = redis.call('HINCRBY', KEYS[1], 'last', 1)
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[2])
return seq

-- Reads a document in one atomic step, so a compaction cannot fall between reading the
-- snapshot and reading the updates after it.
-- KEYS: 1 meta, 2 updates, 3 snapshot.
-- Returns {last_seq, {updates, oldest first}, snapshot or nil}.
local last = redis.call('HGET', KEYS[1], 'last') or '0'
return {last, redis.call('LRANGE', KEYS[2], 0, -1), redis.call('GET', KEYS[3])}

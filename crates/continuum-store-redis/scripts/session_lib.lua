-- Shared by the session scripts (prepended to each one).

-- The key's real-time expiry, a safety net behind the sweeper: PEXPIREAT purge_at + margin (ms)
-- when that is still ahead of Redis's own clock. A deadline already past by Redis's clock sets
-- nothing (the sweeper deletes such records), so a record written with a clock far from real
-- time (an injected test clock) is never deleted by Redis while it is still expected.
-- A later call never shortens an expiry set before: deadlines only move later.
local function expire_after(key, purge_at, margin)
  local at = purge_at + margin
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  -- Beyond 2^53 a Lua number is no longer an exact millisecond: leave such keys to the sweeper.
  if at > now and at < 9007199254740992 then
    -- GT alone would never set an expiry on a key that has none.
    if redis.call('PTTL', key) == -1 then
      redis.call('PEXPIREAT', key, string.format('%.0f', at))
    else
      redis.call('PEXPIREAT', key, string.format('%.0f', at), 'GT')
    end
  end
end

-- When a session may be purged: at its expiry while active, at its absolute expiry as a
-- tombstone (SessionRecord::purge_at).
local function purge_time(active, last_seen, idle, absolute)
  if active == '1' then
    return math.min(last_seen + idle, absolute)
  end
  return absolute
end


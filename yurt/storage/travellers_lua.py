"""The Lua scripts of ``RedisPresenceStore``: each touches the keys of one Cluster slot, declared in KEYS."""

# KEYS: cell zset, count hash, expiry zset, profile hash, established set, established count hash. ARGV: tid,
# cell, order, exp_ms, profile JSON, established (1/0). Count only new members (and members that became
# established). The profile copy lets a page read members and profiles in one script.
INDEX_ADD = """
local member = ARGV[2] .. '|' .. ARGV[1]
if redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) == 1 then redis.call('HINCRBY', KEYS[2], ARGV[2], 1) end
redis.call('ZADD', KEYS[3], ARGV[4], member)
redis.call('HSET', KEYS[4], ARGV[1], ARGV[5])
if ARGV[6] == '1' then
  if redis.call('SADD', KEYS[5], member) == 1 then redis.call('HINCRBY', KEYS[6], ARGV[2], 1) end
elseif redis.call('SREM', KEYS[5], member) == 1 then
  if redis.call('HINCRBY', KEYS[6], ARGV[2], -1) <= 0 then redis.call('HDEL', KEYS[6], ARGV[2]) end
end
return 1
"""
# KEYS as above (six). ARGV: tid, cell, max_exp_ms ('+inf' = unconditional): remove only if not re-shared since.
INDEX_REMOVE = """
local member = ARGV[2] .. '|' .. ARGV[1]
local exp = redis.call('ZSCORE', KEYS[3], member)
if ARGV[3] ~= '+inf' and exp and tonumber(exp) > tonumber(ARGV[3]) then return 0 end
redis.call('ZREM', KEYS[3], member)
local copy = redis.call('HGET', KEYS[4], ARGV[1])
if copy and string.find(copy, ARGV[2], 1, true) then redis.call('HDEL', KEYS[4], ARGV[1]) end
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  if redis.call('HINCRBY', KEYS[2], ARGV[2], -1) <= 0 then redis.call('HDEL', KEYS[2], ARGV[2]) end
end
if redis.call('SREM', KEYS[5], member) == 1 then
  if redis.call('HINCRBY', KEYS[6], ARGV[2], -1) <= 0 then redis.call('HDEL', KEYS[6], ARGV[2]) end
end
return 1
"""
# KEYS: limiter hash, presence hash, suspension marker, first-seen marker. ARGV: expected limiter at_ms ('' =
# none), new limiter at_ms, cell, win_ms, count, ttl_ms, then presence cell, exp_ms, name, langs, about, ttl_ms,
# then a fresh session id, now_ms, account_since_ms, first-seen retention (ms) and the time it ends (ms), the
# account age for areas (ms).
# Compare-and-set: limiter and presence change together or not at all. A presence still live at now_ms keeps
# its session; otherwise the fresh id starts one. The first-seen hash keeps the earliest time the account is
# known, forgotten a retention after the last share (by the caller's clock, like presence expiry; PEXPIRE only
# collects it). Returns {'ok', previous presence cell or false, session id, established 1/0}.
COMMIT = """
if redis.call('EXISTS', KEYS[3]) == 1 then return {'suspended', false} end
local current = redis.call('HGET', KEYS[1], 'at_ms') or ''
if current ~= ARGV[1] then return {'retry', false} end
redis.call('HSET', KEYS[1], 'at_ms', ARGV[2], 'cell', ARGV[3], 'win_ms', ARGV[4], 'count', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
local old = redis.call('HMGET', KEYS[2], 'cell', 'exp_ms', 'sid')
local sid = ARGV[13]
if old[3] and tonumber(old[2]) > tonumber(ARGV[14]) then sid = old[3] end
local since = ARGV[15]
local seen = redis.call('HMGET', KEYS[4], 'first_ms', 'until_ms')
if seen[1] and tonumber(seen[2]) > tonumber(ARGV[14]) and tonumber(seen[1]) < tonumber(since) then
  since = seen[1]
end
redis.call('HSET', KEYS[4], 'first_ms', since, 'until_ms', ARGV[17])
redis.call('PEXPIRE', KEYS[4], ARGV[16])
local established = '0'
if tonumber(ARGV[14]) - tonumber(since) >= tonumber(ARGV[18]) then established = '1' end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'cell', ARGV[7], 'exp_ms', ARGV[8], 'name', ARGV[9], 'langs', ARGV[10],
           'about', ARGV[11], 'sid', sid, 'est', established)
redis.call('PEXPIRE', KEYS[2], ARGV[12])
return {'ok', old[1], sid, established}
"""
# KEYS: cell zset, profile hash. ARGV: rotation, offset, count. Members in the rotated hash order (scores >=
# rotation, then the rest), each followed by its profile copy (false if gone).
READ_ROTATED = """
local rot, off, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local ge = redis.call('ZCOUNT', KEYS[1], rot, '+inf')
local out = {}
if off < ge then
  out = redis.call('ZRANGE', KEYS[1], rot, '+inf', 'BYSCORE', 'LIMIT', off, n)
  off = 0
else
  off = off - ge
end
if #out < n then
  local rest = redis.call('ZRANGE', KEYS[1], '-inf', '(' .. rot, 'BYSCORE', 'LIMIT', off, n - #out)
  for _, m in ipairs(rest) do out[#out + 1] = m end
end
local pairs_out = {}
for _, m in ipairs(out) do
  pairs_out[#pairs_out + 1] = m
  pairs_out[#pairs_out + 1] = redis.call('HGET', KEYS[2], m)
end
return pairs_out
"""

"""The Lua scripts of ``RedisPresenceStore``: each touches the keys of one Cluster slot, declared in KEYS."""

# Index maintenance as Lua functions, shared by the per-slot scripts below and the one-trip scripts of
# ``travellers_onetrip_lua``. ``k``: the six keys of a cell's index group (``index_keys``): cell zset, count hash,
# expiry zset, profile hash, established set, established count hash.
INDEX_FUNCTIONS = """
local function index_keys(coarse, cell)
  local g = '{g:' .. coarse .. '}:'
  return {g .. 'c:' .. cell, g .. 'n', g .. 'x', g .. 'prof', g .. 'est', g .. 'ne'}
end
-- Count only new members (and members that became established). The profile copy lets a page read members
-- and profiles in one script.
local function index_add(k, tid, cell, order, exp_ms, copy, established)
  local member = cell .. '|' .. tid
  if redis.call('ZADD', k[1], order, tid) == 1 then redis.call('HINCRBY', k[2], cell, 1) end
  redis.call('ZADD', k[3], exp_ms, member)
  redis.call('HSET', k[4], tid, copy)
  if established == '1' then
    if redis.call('SADD', k[5], member) == 1 then redis.call('HINCRBY', k[6], cell, 1) end
  elseif redis.call('SREM', k[5], member) == 1 then
    if redis.call('HINCRBY', k[6], cell, -1) <= 0 then redis.call('HDEL', k[6], cell) end
  end
end
-- max_exp_ms '+inf' = unconditional: otherwise remove only if not re-shared since.
local function index_remove(k, tid, cell, max_exp_ms)
  local member = cell .. '|' .. tid
  local exp = redis.call('ZSCORE', k[3], member)
  if max_exp_ms ~= '+inf' and exp and tonumber(exp) > tonumber(max_exp_ms) then return 0 end
  redis.call('ZREM', k[3], member)
  local copy = redis.call('HGET', k[4], tid)
  if copy and string.find(copy, cell, 1, true) then redis.call('HDEL', k[4], tid) end
  if redis.call('ZREM', k[1], tid) == 1 then
    if redis.call('HINCRBY', k[2], cell, -1) <= 0 then redis.call('HDEL', k[2], cell) end
  end
  if redis.call('SREM', k[5], member) == 1 then
    if redis.call('HINCRBY', k[6], cell, -1) <= 0 then redis.call('HDEL', k[6], cell) end
  end
  return 1
end
-- Members of a cell's zset in the rotated hash order: scores >= rotation ascending, then the rest (at ``off``,
-- at most ``n``).
local function rotated_members(zset, rot, off, n)
  if off == 0 then  -- a cell of at most n members (most are): one read, rotated here
    local all = redis.call('ZRANGE', zset, 0, n, 'WITHSCORES')
    if #all <= 2 * n then
      local head, tail, r = {}, {}, tonumber(rot)
      for i = 1, #all, 2 do
        if tonumber(all[i + 1]) >= r then head[#head + 1] = all[i] else tail[#tail + 1] = all[i] end
      end
      for _, m in ipairs(tail) do head[#head + 1] = m end
      return head
    end
  end
  local ge = 0
  if off > 0 then ge = redis.call('ZCOUNT', zset, rot, '+inf') end
  local out = {}
  if off == 0 or off < ge then
    out = redis.call('ZRANGE', zset, rot, '+inf', 'BYSCORE', 'LIMIT', off, n)
    off = 0
  else
    off = off - ge
  end
  if #out < n then
    local rest = redis.call('ZRANGE', zset, '-inf', '(' .. rot, 'BYSCORE', 'LIMIT', off, n - #out)
    for _, m in ipairs(rest) do out[#out + 1] = m end
  end
  return out
end
-- The same members, each followed by its profile copy (false if gone).
local function read_rotated(zset, profiles, rot, off, n)
  local members = rotated_members(zset, rot, off, n)
  local out = {}
  if #members == 0 then return out end
  local copies = redis.call('HMGET', profiles, unpack(members))
  for i, m in ipairs(members) do
    out[#out + 1] = m
    out[#out + 1] = copies[i]
  end
  return out
end
"""
# KEYS: the six index keys. ARGV: tid, cell, order, exp_ms, profile JSON, established (1/0).
INDEX_ADD = INDEX_FUNCTIONS + "index_add(KEYS, ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]) return 1"
# KEYS as above (six). ARGV: tid, cell, max_exp_ms ('+inf' = unconditional).
INDEX_REMOVE = INDEX_FUNCTIONS + "return index_remove(KEYS, ARGV[1], ARGV[2], ARGV[3])"
# KEYS: limiter hash, presence hash, suspension marker, first-seen marker. ARGV: expected limiter at_ms ('' =
# none), new limiter at_ms, cell, win_ms, count, ttl_ms, then presence cell, exp_ms, name, langs, about, ttl_ms,
# then a fresh session id, now_ms, account_since_ms, first-seen retention (ms) and the time it ends (ms), the
# account age for areas (ms).
# Compare-and-set: limiter and presence change together or not at all. A presence still live at now_ms keeps
# its session; otherwise the fresh id starts one. The first-seen hash keeps the earliest time the account is
# known, forgotten a retention after the last share (by the caller's clock, like presence expiry; PEXPIRE only
# collects it). Returns {'ok', previous presence cell or false, session id, established 1/0}.
COMMIT_FUNCTION = """
local function commit(k, a)
  if redis.call('EXISTS', k[3]) == 1 then return {'suspended', false} end
  local current = redis.call('HGET', k[1], 'at_ms') or ''
  if current ~= a[1] then return {'retry', false} end
  redis.call('HSET', k[1], 'at_ms', a[2], 'cell', a[3], 'win_ms', a[4], 'count', a[5])
  redis.call('PEXPIRE', k[1], a[6])
  local old = redis.call('HMGET', k[2], 'cell', 'exp_ms', 'sid')
  local sid = a[13]
  if old[3] and tonumber(old[2]) > tonumber(a[14]) then sid = old[3] end
  local since = a[15]
  local seen = redis.call('HMGET', k[4], 'first_ms', 'until_ms')
  if seen[1] and tonumber(seen[2]) > tonumber(a[14]) and tonumber(seen[1]) < tonumber(since) then
    since = seen[1]
  end
  redis.call('HSET', k[4], 'first_ms', since, 'until_ms', a[17])
  redis.call('PEXPIRE', k[4], a[16])
  local established = '0'
  if tonumber(a[14]) - tonumber(since) >= tonumber(a[18]) then established = '1' end
  redis.call('DEL', k[2])
  redis.call('HSET', k[2], 'cell', a[7], 'exp_ms', a[8], 'name', a[9], 'langs', a[10],
             'about', a[11], 'sid', sid, 'est', established)
  redis.call('PEXPIRE', k[2], a[12])
  return {'ok', old[1], sid, established}
end
"""
COMMIT = COMMIT_FUNCTION + "return commit(KEYS, ARGV)"
# KEYS: cell zset, profile hash. ARGV: rotation, offset, count.
READ_ROTATED = INDEX_FUNCTIONS + "return read_rotated(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))"

# The Cluster's per-slot step scripts (``travellers_cluster``).
# KEYS: an index group's expiry zset, then its count hash (``n``, or ``ne`` for established members only). ARGV:
# the group's resolution-5 cell, now_ms. Sweeps up to 1,000 expired members of the group (as
# ``RedisPresenceStore.occupied`` does on a single node), then returns the count hash (flat cell, count pairs).
OCCUPIED = INDEX_FUNCTIONS + """
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], '-inf', ARGV[2], 'BYSCORE', 'LIMIT', 0, 1000)) do
  local sep = string.find(m, '|', 1, true)
  local cell = string.sub(m, 1, sep - 1)
  index_remove(index_keys(ARGV[1], cell), string.sub(m, sep + 1), cell, ARGV[2])
end
return redis.call('HGETALL', KEYS[2])
"""
# KEYS: the viewer's handle hash. ARGV: its TTL (s), then handle, tid pairs. The handles and the TTL together, as
# the single node's MULTI does.
REMEMBER_HANDLES = """
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""

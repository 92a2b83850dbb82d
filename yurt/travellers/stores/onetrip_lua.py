"""The one-trip scripts of ``travellers_onetrip``: on a single Redis node, a whole step of a traveller request in
one EVALSHA, the per-client rate-limit count included.

They touch keys of several hash slots (the traveller's, the geo index cells', the rate-limit counter), which a
single node allows and a Cluster refuses: on a Cluster the per-slot scripts of ``travellers_lua`` are used.
"""

from yurt.core.redis.counters import RATE_FUNCTION
from yurt.travellers.stores.presence_lua import COMMIT_FUNCTION, INDEX_FUNCTIONS

# The two halves of a nearby query as Lua functions: ``NEARBY_HEAD`` and ``NEARBY_PAGE`` run one each,
# ``NEARBY_AT_ONCE`` both in one call.
#
# nearby_head(presence key, rate-limit counter or nil, now_ms, edge, rate window s): ``edge`` is the radius
# edge's position (1-based) in the presence's ``ix`` field, "n1,...,n5|c1,c2,...": the resolution-5 index cells a
# query of each radius edge reads, ordered so that the first n_i are those of edge i. Sweeps expired index
# members of those cells (as ``occupied`` does), then returns {rate or false, presence HGETALL or false, flat
# res7 → count pairs or false (no ``ix``)}.
#
# nearby_page(block set, shown-sessions hash, viewer tid, now_ms, limit, most members to examine, shown-hash TTL
# (s), offset in the first cell, the cells of the layout from the page's start in one string, "index
# cell,cell,rotation,count;..." (far cheaper to send than 4 arguments per cell)): walks the cells in order, each
# member in the viewer's rotated order, keeps live members (profile copy in this cell, not expired) other than
# the viewer that neither blocked the other, until ``limit``; records each kept member's "tid|session" (the
# handle is an HMAC the caller computes from it, so ``resolve_handle`` can recompute it). Returns {cell position
# (1-based), offset, flat (cell position, tid, profile copy) triples}.
NEARBY_FUNCTIONS = RATE_FUNCTION + INDEX_FUNCTIONS + """
local function nearby_head(presence_key, rate_key, now_ms, edge, window)
  local rate = false
  if rate_key then rate = rate_hit(rate_key, window) end
  local p = redis.call('HGETALL', presence_key)
  local f = {}
  for i = 1, #p, 2 do f[p[i]] = p[i + 1] end
  if #p == 0 or tonumber(f.exp_ms) <= tonumber(now_ms) then return {rate, false, false} end
  if not f.ix then return {rate, p, false} end
  local bar = string.find(f.ix, '|', 1, true)
  local edges = {}
  for n in string.gmatch(string.sub(f.ix, 1, bar - 1), '%d+') do edges[#edges + 1] = tonumber(n) end
  local wanted = edges[tonumber(edge)]
  local counts, read = {}, 0
  for coarse in string.gmatch(string.sub(f.ix, bar + 1), '[^,]+') do
    if read >= wanted then break end
    read = read + 1
    local g = '{g:' .. coarse .. '}:'
    for _, m in ipairs(redis.call('ZRANGE', g .. 'x', '-inf', now_ms, 'BYSCORE', 'LIMIT', 0, 1000)) do
      local sep = string.find(m, '|', 1, true)
      local cell = string.sub(m, 1, sep - 1)
      index_remove(index_keys(coarse, cell), string.sub(m, sep + 1), cell, now_ms)
    end
    for _, v in ipairs(redis.call('HGETALL', g .. 'n')) do counts[#counts + 1] = v end
  end
  return {rate, p, counts, f.cell}
end
-- The member's session if its profile copy ("cell|exp_ms|session|est|profile", ``travellers_onetrip.index_copy``)
-- is in this cell and live at ``now``, else nil; read by position, with no JSON decode. A JSON copy (written
-- before that form) is decoded.
local function live_session(copy, cell, prefix, now)
  if string.byte(copy, 1) == 123 then
    local d = cjson.decode(copy)
    if d.cell ~= cell or tonumber(d.exp_ms) <= now then return nil end
    if type(d.sid) == 'string' then return d.sid end
    return ''
  end
  local n = #prefix
  if string.sub(copy, 1, n) ~= prefix then return nil end
  local e = string.find(copy, '|', n + 1, true)
  if not e or tonumber(string.sub(copy, n + 1, e - 1)) <= now then return nil end
  local s = string.find(copy, '|', e + 1, true)
  return string.sub(copy, e + 1, s - 1)
end
local function nearby_page(blocks_key, shown_key, viewer, now_ms, limit_arg, max_scan_arg, ttl, off_arg, layout)
  local now, limit, max_scan, off = tonumber(now_ms), tonumber(limit_arg), tonumber(max_scan_arg), tonumber(off_arg)
  local slots = {}
  for coarse, cell, rot, count in string.gmatch(layout, '([^,]+),([^,]+),([^,]+),([^;]+);?') do
    slots[#slots + 1] = {coarse, cell, rot, tonumber(count)}
  end
  local cells = #slots
  local blocked = {}
  for _, tid in ipairs(redis.call('SMEMBERS', blocks_key)) do blocked[tid] = true end
  local out, shown, found, scanned, i = {}, {}, 0, 0, 1
  while i <= cells and found < limit and scanned < max_scan do
    local slot = slots[i]
    local cell, count = slot[2], slot[4]
    local take = math.min(count - off, limit - found)
    if take > 0 then
      local g = '{g:' .. slot[1] .. '}:'
      local prefix = cell .. '|'
      local read = read_rotated(g .. 'c:' .. cell, g .. 'prof', slot[3], off, take)
      for j = 1, #read, 2 do
        local tid, copy = read[j], read[j + 1]
        if tid ~= viewer and copy and not blocked[tid] then
          local sid = live_session(copy, cell, prefix, now)
          if sid and redis.call('SISMEMBER', '{t:' .. tid .. '}:blk', viewer) == 0 then
            found = found + 1
            out[#out + 1] = i
            out[#out + 1] = tid
            out[#out + 1] = copy
            shown[#shown + 1] = tid .. '|' .. sid
            shown[#shown + 1] = '1'
          end
        end
      end
      off = off + take
      scanned = scanned + take
    end
    if off >= count then i, off = i + 1, 0 end
  end
  if found > 0 then
    redis.call('HSET', shown_key, unpack(shown))
    redis.call('EXPIRE', shown_key, ttl)
  end
  return {i, off, out}
end
"""
# KEYS: presence hash, then the rate-limit counter if charged here. ARGV: now_ms, edge, rate window (s).
NEARBY_HEAD = NEARBY_FUNCTIONS + """
local h = nearby_head(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])
return {h[1], h[2], h[3]}
"""
# KEYS: the viewer's block set, the viewer's shown-sessions hash. ARGV: nearby_page's from the viewer tid on.
NEARBY_PAGE = NEARBY_FUNCTIONS + """
return nearby_page(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
"""
# A whole nearby query in one call, when the caller predicts the head: the page it planned is read only if the
# head finds the viewer in the predicted cell and exactly the predicted occupied cells and counts ("cell=n"
# for n > 0, sorted, comma-joined), and the rate-limit count within ``most`` (0: no limit counted here).
# KEYS: presence hash, block set, shown-sessions hash, then the rate-limit counter if charged here. ARGV: now_ms,
# edge, rate window (s), most, predicted cell, predicted counts, then nearby_page's from the viewer tid on.
# Returns the head's three values, then the page's reply or false.
NEARBY_AT_ONCE = NEARBY_FUNCTIONS + """
local h = nearby_head(KEYS[1], KEYS[4], ARGV[1], ARGV[2], ARGV[3])
if not h[3] or h[4] ~= ARGV[5] or (h[1] and tonumber(ARGV[4]) > 0 and h[1][1] > tonumber(ARGV[4])) then
  return {h[1], h[2], h[3], false}
end
local occupied = {}
for i = 1, #h[3], 2 do
  if tonumber(h[3][i + 1]) > 0 then occupied[#occupied + 1] = h[3][i] .. '=' .. h[3][i + 1] end
end
table.sort(occupied)
if table.concat(occupied, ',') ~= ARGV[6] then return {h[1], h[2], h[3], false} end
return {h[1], h[2], h[3], nearby_page(KEYS[2], KEYS[3], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12],
                                      ARGV[13])}
"""

# KEYS: limiter hash, suspension marker, presence hash, then the rate-limit counter if charged here. ARGV: the
# rate window (s). Returns {rate or false, suspended 1/0, limiter HGETALL, presence {cell, exp_ms, sid}}.
UPDATE_HEAD = RATE_FUNCTION + """
local rate = false
if KEYS[4] then rate = rate_hit(KEYS[4], ARGV[1]) end
return {rate, redis.call('EXISTS', KEYS[2]), redis.call('HGETALL', KEYS[1]),
        redis.call('HMGET', KEYS[3], 'cell', 'exp_ms', 'sid')}
"""

# KEYS: limiter hash, presence hash, suspension marker, first-seen marker (as COMMIT), the visible-travellers
# shard, the six index keys of the new cell, then the six of the old cell if it differs. ARGV: COMMIT's 18,
# then the presence cell and session the head read ('' = none: the compare-and-set covers them too), tid, the
# cell order for the fresh session and for the kept one, the profile as nearby shows it (``Profile.public_json``:
# the script makes the index copy of ``travellers_onetrip.index_copy`` with the session), the presence's ``ix``.
# The presence, its index entry and the gauge change in one script.
UPDATE_COMMIT = COMMIT_FUNCTION + INDEX_FUNCTIONS + """
local old = redis.call('HMGET', KEYS[2], 'cell', 'sid')
if (old[1] or '') ~= ARGV[19] or (old[2] or '') ~= ARGV[20] then return {'retry', false} end
local r = commit(KEYS, ARGV)
if r[1] ~= 'ok' then return r end
local tid, cell, sid, est = ARGV[21], ARGV[7], r[3], r[4]
redis.call('HSET', KEYS[2], 'ix', ARGV[25])
if r[2] and r[2] ~= cell then
  index_remove({KEYS[12], KEYS[13], KEYS[14], KEYS[15], KEYS[16], KEYS[17]}, tid, r[2], '+inf')
end
local order = ARGV[22]
if sid == ARGV[20] then order = ARGV[23] end
local copy = cell .. '|' .. ARGV[8] .. '|' .. sid .. '|' .. est .. '|' .. ARGV[24]
index_add({KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]}, tid, cell, order, ARGV[8], copy, est)
redis.call('ZADD', KEYS[5], ARGV[8], tid)
return r
"""

"""The Lua scripts of ``RedisMeetupStore``: each touches only keys declared in KEYS, of one slot on a Cluster."""

# KEYS: meetup hash, attendee set. ARGV: sub, now_ms. Returns {code, attending}. The attendee set expires
# with the meetup (a TTL from the caller's clock, as every expiry here: tests run on a pinned clock).
JOIN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'notfound', 0} end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return {'ok', redis.call('SCARD', KEYS[2])} end
local m = redis.call('HMGET', KEYS[1], 'status', 'ends_ms', 'organiser', 'capacity', 'expire_ms')
if m[1] ~= 'active' or tonumber(m[2]) <= tonumber(ARGV[2]) then return {'closed', 0} end
if m[3] == ARGV[1] then return {'organiser', 0} end
if redis.call('SCARD', KEYS[2]) >= tonumber(m[4]) then return {'full', 0} end
redis.call('SADD', KEYS[2], ARGV[1])
if m[5] then redis.call('PEXPIRE', KEYS[2], math.max(1, tonumber(m[5]) - tonumber(ARGV[2]))) end
return {'ok', redis.call('SCARD', KEYS[2])}
"""
# KEYS: the organiser's live zset. ARGV: now_ms, max_active, meetup id, ends_ms. 1 = counted, 0 = over the cap.
RESERVE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
local last = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
redis.call('PEXPIRE', KEYS[1], math.max(1, last - tonumber(ARGV[1])))
return 1
"""
# The first lines of the index scripts: KEYS are (index zset, ends zset) pairs, one per root; ARGV[1] now_ms.
# Drops up to 200 ended members of each root.
_SWEEP = """
for k = 1, #KEYS, 2 do
  local gone = redis.call('ZRANGEBYSCORE', KEYS[k + 1], '-inf', ARGV[1], 'LIMIT', 0, 200)
  if #gone > 0 then
    redis.call('ZREM', KEYS[k], unpack(gone))
    redis.call('ZREM', KEYS[k + 1], unpack(gone))
  end
end
"""
# KEYS: index zset, ends zset. ARGV: now_ms, then lo, hi of each cell. Sweeps, then answers each cell's count.
# One call per root, however many of its cells a search asks about.
COUNTS = _SWEEP + """
local out = {}
for i = 2, #ARGV, 2 do out[#out + 1] = redis.call('ZCOUNT', KEYS[1], ARGV[i], ARGV[i + 1]) end
return out
"""
# KEYS: index zset. ARGV: lo, hi of each cell. Each cell's members.
RANGES = """
local out = {}
for i = 1, #ARGV, 2 do out[#out + 1] = redis.call('ZRANGE', KEYS[1], ARGV[i], ARGV[i + 1], 'BYSCORE') end
return out
"""
# KEYS: (meetup hash, attendee set) of each meetup. For each, what a reader needs (doc, status, organiser) and
# the number attending, or false when the meetup is gone: one call (one per slot on a Cluster), one reply.
READ = """
local out = {}
for k = 1, #KEYS, 2 do
  local m = redis.call('HMGET', KEYS[k], 'doc', 'status', 'organiser')
  out[#out + 1] = m[1] and {m[1], m[2], m[3], redis.call('SCARD', KEYS[k + 1])} or false
end
return out
"""
# A search's first round trip (``meetup_search.ReadAhead``): sweep and count, and read the fast path's cells.
# KEYS: (index zset, ends zset) of each root. ARGV: now_ms, limit, window start_ms and end_ms, the query point's
# ECEF x, y, z (km), the ellipsoid's a (km) and e², the chord factor and the km to add for the bound; then, as
# little-endian doubles, each root's number (its score >> 21: a cell's root is its lo >> 21) and the counted
# cells' (lo, hi); then the number of levels, finest first, each as the position of its disk's first cell
# among the counted cells, the disk's length and its ring's (lo, hi) as doubles. At the first level whose
# disk counts at least ``limit`` (and whose cells all lie in KEYS' roots): C = the limit-th smallest chord
# among the disk's venues in the window, bound = C * factor + km. Returns {counts, 0} or {counts, level,
# bound, the members of each of the level's cells (disk, then ring) within the bound}.
SURVEY = _SWEEP + """
local function doubles(blob)
  if #blob == 0 then return {} end
  local out = {struct.unpack('<' .. string.rep('d', #blob / 8), blob)}
  out[#out] = nil  -- unpack's last value is the next position
  return out
end
local key = {}
for i, number in ipairs(doubles(ARGV[12])) do key[number] = KEYS[2 * i - 1] end
local function range(lo, hi)  -- the cell's key (nil outside KEYS' roots) and its bounds as ZCOUNT takes them
  return key[math.floor(lo / 2097152)], string.format('%.0f', lo), string.format('%.0f', hi)
end
local cells, counts = doubles(ARGV[13]), {}
for c = 1, #cells, 2 do
  local zset, lo, hi = range(cells[c], cells[c + 1])
  counts[#counts + 1] = redis.call('ZCOUNT', zset, lo, hi)
end
local limit, wstart, wend = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local qx, qy, qz = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local a, e2 = tonumber(ARGV[8]), tonumber(ARGV[9])
-- a member is id|lat|lon|starts_ms|ends_ms; geodetic to ECEF as yurt.domain.geodesy.ecef_point_m (in km)
local function read(zset, lo, hi)
  local out = {}
  for _, member in ipairs(redis.call('ZRANGE', zset, lo, hi, 'BYSCORE')) do
    local lat, lon, starts, ends = string.match(member, '|([^|]+)|([^|]+)|([^|]+)|([^|]+)$')
    local phi, lam = math.rad(tonumber(lat)), math.rad(tonumber(lon))
    local s = math.sin(phi)
    local nk = a / math.sqrt(1.0 - e2 * s * s)
    local dx = nk * math.cos(phi) * math.cos(lam) - qx
    local dy = nk * math.cos(phi) * math.sin(lam) - qy
    local dz = nk * (1.0 - e2) * s - qz
    local inside = tonumber(ends) > wstart and tonumber(starts) < wend
    out[#out + 1] = {member, math.sqrt(dx * dx + dy * dy + dz * dz), inside}
  end
  return out
end
for level = 1, tonumber(ARGV[14]) do
  local at, len, ring = tonumber(ARGV[12 + 3 * level]), tonumber(ARGV[13 + 3 * level]), ARGV[14 + 3 * level]
  local sum, bounds = 0, {}
  for j = at, at + len - 1 do
    sum = sum + counts[j]
    bounds[#bounds + 1], bounds[#bounds + 2] = cells[2 * j - 1], cells[2 * j]
  end
  if sum >= limit then
    for _, bound in ipairs(doubles(ring)) do bounds[#bounds + 1] = bound end
    local found, chords = {}, {}
    for c = 1, #bounds, 2 do
      local zset, lo, hi = range(bounds[c], bounds[c + 1])
      if not zset then return {counts, 0} end  -- a cell of another root (another slot): no read-ahead
      found[#found + 1] = read(zset, lo, hi)
      if c < 2 * len then
        for _, v in ipairs(found[#found]) do if v[3] then chords[#chords + 1] = v[2] end end
      end
    end
    if #chords < limit then return {counts, 0} end
    table.sort(chords)
    local bound = chords[limit] * tonumber(ARGV[10]) + tonumber(ARGV[11])
    local out = {counts, level, string.format('%.17g', bound)}
    for _, cell in ipairs(found) do
      local kept = {}
      for _, v in ipairs(cell) do if v[2] <= bound then kept[#kept + 1] = v[1] end end
      out[#out + 1] = kept
    end
    return out
  end
end
return {counts, 0}
"""

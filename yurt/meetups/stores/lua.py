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
# among the counted cells, the disk's length, and (lo, hi, centre x, y, z, subtree bound) of each of the
# level's cells (disk, then ring) as doubles. At the first level whose disk counts at least ``limit``, its
# cells are read nearest lower bound first (chord to the centre less the subtree bound), keeping the
# ``limit`` smallest chords C of venues in the window, until the next cell's lower bound exceeds C * factor +
# km (the bound). Returns {counts, 0} or {counts, level, bound, then for each cell read: its position among
# the level's cells and its members within the bound}; a cell of another root (slot) ends the read: {counts, 0}.
SURVEY = _SWEEP + """
local function doubles(blob)
  if #blob == 0 then return {} end
  local out = {struct.unpack('<' .. string.rep('d', #blob / 8), blob)}
  out[#out] = nil  -- unpack's last value is the next position
  return out
end
local key = {}
for i, number in ipairs(doubles(ARGV[12])) do key[number] = KEYS[2 * i - 1] end
local function range(lo, hi)  -- the cell's key (nil outside KEYS' roots) and its bounds (40-bit integers, which
  return key[math.floor(lo / 2097152)], lo, hi  -- redis.call writes exactly: under 14 digits)
end
local cells, counts = doubles(ARGV[13]), {}
for c = 1, #cells, 2 do
  local zset, lo, hi = range(cells[c], cells[c + 1])
  counts[#counts + 1] = redis.call('ZCOUNT', zset, lo, hi)
end
local limit, wstart, wend = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local qx, qy, qz = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local a, e2, factor, add = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local function chord(x, y, z)
  return math.sqrt((x - qx) * (x - qx) + (y - qy) * (y - qy) + (z - qz) * (z - qz))
end
-- a member is id|lat|lon|starts_ms|ends_ms; geodetic to ECEF as yurt.geo.geodesy.ecef_point_m (in km).
-- The per-venue loop is most of the script's time: library functions in locals, the chord inline.
local match, num, rad, sin, cos, sqrt = string.match, tonumber, math.rad, math.sin, math.cos, math.sqrt
local function read(zset, lo, hi, into, chords)
  for _, member in ipairs(redis.call('ZRANGE', zset, lo, hi, 'BYSCORE')) do
    local lat, lon, starts, ends = match(member, '|([^|]+)|([^|]+)|([^|]+)|([^|]+)$')
    local phi, lam = rad(num(lat)), rad(num(lon))
    local s, c = sin(phi), cos(phi)
    local nk = a / sqrt(1.0 - e2 * s * s)
    local dx, dy, dz = nk * c * cos(lam) - qx, nk * c * sin(lam) - qy, nk * (1.0 - e2) * s - qz
    local d = sqrt(dx * dx + dy * dy + dz * dz)
    into[#into + 1] = {member, d}
    if num(ends) > wstart and num(starts) < wend then chords[#chords + 1] = d end
  end
end
for level = 1, tonumber(ARGV[14]) do
  local at, len = tonumber(ARGV[12 + 3 * level]), tonumber(ARGV[13 + 3 * level])
  local sum = 0
  for j = at, at + len - 1 do sum = sum + counts[j] end
  if sum >= limit then
    local geometry, order, lower = doubles(ARGV[14 + 3 * level]), {}, {}
    for i = 1, #geometry / 6 do
      local g = 6 * (i - 1)
      order[i], lower[i] = i, math.max(chord(geometry[g + 3], geometry[g + 4], geometry[g + 5]) - geometry[g + 6], 0)
    end
    table.sort(order, function(i, j) return lower[i] < lower[j] end)
    local bound, found, chords = math.huge, {}, {}
    for _, i in ipairs(order) do
      if lower[i] > bound then break end
      local zset, lo, hi = range(geometry[6 * i - 5], geometry[6 * i - 4])
      if not zset then return {counts, 0} end
      found[#found + 1] = {i, {}}
      read(zset, lo, hi, found[#found][2], chords)
      if #chords >= limit then
        table.sort(chords)
        for k = #chords, limit + 1, -1 do chords[k] = nil end
        bound = chords[limit] * factor + add
      end
    end
    if bound == math.huge then return {counts, 0} end
    local out = {counts, level, string.format('%.17g', bound)}
    for _, cell in ipairs(found) do
      local kept = {}
      for _, v in ipairs(cell[2]) do if v[2] <= bound then kept[#kept + 1] = v[1] end end
      out[#out + 1] = cell[1]
      out[#out + 1] = kept
    end
    return out
  end
end
return {counts, 0}
"""

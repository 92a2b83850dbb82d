"""The Lua scripts of ``RedisMeetupStore``: each touches the keys of one Cluster slot, declared in KEYS."""

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
# KEYS: index zset, ends zset. ARGV: now_ms, then lo, hi of each cell. Drops up to 200 ended members, then
# answers each cell's count. One call per root, however many of its cells a search asks about.
COUNTS = """
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 200)
if #gone > 0 then
  redis.call('ZREM', KEYS[1], unpack(gone))
  redis.call('ZREM', KEYS[2], unpack(gone))
end
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
# KEYS: meetup hash, attendee set. What a reader needs (doc, status, organiser) and the number attending, or
# false when the meetup is gone: one call, one reply to parse.
READ = """
local m = redis.call('HMGET', KEYS[1], 'doc', 'status', 'organiser')
if not m[1] then return false end
return {m[1], m[2], m[3], redis.call('SCARD', KEYS[2])}
"""

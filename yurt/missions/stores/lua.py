"""The mission store's keys in Redis and the Lua scripts that write them, each one atomic step on one slot.

Every key shares the hash tag ``{ym}``, so each script runs on one slot of a Redis Cluster too. A script
re-checks the revision (compare-and-set), applies the change, bumps the generation and appends the audit entry
at once (``redis_store.RedisMissionStore`` reads and checks ETags before calling them).
"""

from __future__ import annotations

from yurt.core.redis.common import CAS_PRELUDE

TAG = "{ym}"
FEATURES, REVS, META, GEN = f"{TAG}:features", f"{TAG}:revs", f"{TAG}:meta", f"{TAG}:gen"
NEXT_REV, AUDIT, AUDIT_SEQ = f"{TAG}:next_rev", f"{TAG}:audit", f"{TAG}:audit_seq"
KEYS = [FEATURES, REVS, META, GEN, NEXT_REV, AUDIT, AUDIT_SEQ]

# One mission write. ARGV: mode (create|update|delete), id, expected rev ('' for create), new feature JSON
# ('' for delete), audit fragment (JSON members without braces: at, author, action, mission_id).
WRITE_ONE = CAS_PRELUDE + """
local gen = redis.call('INCR', KEYS[4])
local rev = 0
if mode == 'delete' then
  redis.call('HDEL', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
else
  rev = redis.call('INCR', KEYS[5])
  redis.call('HSET', KEYS[1], id, new)
  redis.call('HSET', KEYS[2], id, rev)
end
local seq = redis.call('INCR', KEYS[7])
local after = new
if mode == 'delete' then after = 'null' end
redis.call('RPUSH', KEYS[6], '{"seq":' .. seq .. ',"generation":' .. gen .. ',' .. fragment ..
  ',"before":' .. before .. ',"after":' .. after .. '}')
return {'ok', tostring(rev), tostring(gen)}
"""

# Replace everything. ARGV: expected generation, meta JSON, audit fragment, then id/feature JSON pairs.
REPLACE_ALL = """
local gen = tonumber(redis.call('GET', KEYS[4]) or '0')
if gen ~= tonumber(ARGV[1]) then return {'retry'} end
local old = redis.call('HGETALL', KEYS[1])
local old_features = {}
for i = 1, #old, 2 do old_features[old[i]] = old[i + 1] end
local old_revs = {}
local revs = redis.call('HGETALL', KEYS[2])
for i = 1, #revs, 2 do old_revs[revs[i]] = revs[i + 1] end
local before_parts = {}
for i = 1, #old, 2 do before_parts[#before_parts + 1] = old[i + 1] end
local before_meta = redis.call('GET', KEYS[3]) or 'null'
redis.call('DEL', KEYS[1], KEYS[2])
local after_parts = {}
for i = 4, #ARGV, 2 do
  local id, feature = ARGV[i], ARGV[i + 1]
  local rev = old_revs[id]
  if not (rev and old_features[id] == feature) then rev = redis.call('INCR', KEYS[5]) end
  redis.call('HSET', KEYS[1], id, feature)
  redis.call('HSET', KEYS[2], id, rev)
  after_parts[#after_parts + 1] = feature
end
redis.call('SET', KEYS[3], ARGV[2])
gen = redis.call('INCR', KEYS[4])
local seq = redis.call('INCR', KEYS[7])
redis.call('RPUSH', KEYS[6], '{"seq":' .. seq .. ',"generation":' .. gen .. ',' .. ARGV[3] ..
  ',"before":{"dataset":' .. before_meta .. ',"features":[' .. table.concat(before_parts, ',') .. ']}' ..
  ',"after":{"dataset":' .. ARGV[2] .. ',"features":[' .. table.concat(after_parts, ',') .. ']}}')
return {'ok', tostring(gen)}
"""

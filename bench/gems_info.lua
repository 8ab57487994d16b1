-- wrk script for bench/rubygems.sh: authorized compact-index /info/NAME files, rotating over the
-- benchmark gems. Environment: TG_AUTH (the whole Authorization value, e.g. "Basic base64(token:)"),
-- TG_PREFIX (e.g. /acme/gems), TG_GEM_PREFIX (e.g. g), TG_GEMS (count; names are g0000 .. g0999).
local auth = os.getenv("TG_AUTH") or error("TG_AUTH is not set")
local prefix = os.getenv("TG_PREFIX") or "/acme/gems"
local gem_prefix = os.getenv("TG_GEM_PREFIX") or "g"
local count = tonumber(os.getenv("TG_GEMS") or "1000")

wrk.method = "GET"
wrk.headers["authorization"] = auth

local requests = {}
for i = 0, count - 1 do
  requests[#requests + 1] = wrk.format(nil, prefix .. "/info/" .. string.format("%s%04d", gem_prefix, i))
end

local n = 0
-- Each thread starts at a different offset so the threads do not march in step.
function setup(thread)
  thread:set("offset", math.random(count))
end

function init(args)
  n = offset or 0
end

function request()
  n = n + 1
  return requests[(n % count) + 1]
end

-- wrk script for bench/npm.sh: authorized abbreviated packuments, rotating over the
-- benchmark packages. Environment: TG_TOKEN (org token), TG_PREFIX (e.g. /acme/npm),
-- TG_SCOPE (e.g. @acme), TG_PACKAGES (count; names are <scope>/p0 .. p<count-1>).
local token = os.getenv("TG_TOKEN") or error("TG_TOKEN is not set")
local prefix = os.getenv("TG_PREFIX") or "/acme/npm"
local scope = os.getenv("TG_SCOPE") or "@acme"
local count = tonumber(os.getenv("TG_PACKAGES") or "1000")

local paths = {}
for i = 0, count - 1 do
  paths[#paths + 1] = prefix .. "/" .. scope .. "%2fp" .. i
end

wrk.method = "GET"
wrk.headers["authorization"] = "Bearer " .. token
wrk.headers["accept"] = "application/vnd.npm.install-v1+json"

local requests = {}
for i, path in ipairs(paths) do
  requests[i] = wrk.format(nil, path)
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

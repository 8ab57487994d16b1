-- wrk script for bench/cargo.sh: authorized sparse-index files, rotating over the benchmark
-- crates. Environment: TG_TOKEN (org token, sent raw as Cargo does), TG_PREFIX (e.g.
-- /acme/cargo/index), TG_CRATE_PREFIX (e.g. c), TG_CRATES (count; names are c0000 .. c0999).
local token = os.getenv("TG_TOKEN") or error("TG_TOKEN is not set")
local prefix = os.getenv("TG_PREFIX") or "/acme/cargo/index"
local crate_prefix = os.getenv("TG_CRATE_PREFIX") or "c"
local count = tonumber(os.getenv("TG_CRATES") or "1000")

-- Cargo's index path of a name, lowercased: 1/a, 2/ab, 3/a/abc, ab/cd/abcd...
local function index_path(name)
  local n = string.lower(name)
  if #n == 1 then
    return "1/" .. n
  elseif #n == 2 then
    return "2/" .. n
  elseif #n == 3 then
    return "3/" .. n:sub(1, 1) .. "/" .. n
  end
  return n:sub(1, 2) .. "/" .. n:sub(3, 4) .. "/" .. n
end

wrk.method = "GET"
wrk.headers["authorization"] = token

local requests = {}
for i = 0, count - 1 do
  requests[#requests + 1] = wrk.format(nil, prefix .. "/" .. index_path(string.format("%s%04d", crate_prefix, i)))
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

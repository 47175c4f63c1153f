-- bench/kiamo_planning.lua: kiamo reading one large planning page
-- (GET /activities/planning, a JSON body, ~10 MB answer), timed once in
-- a fresh process so that the peak memory is this read's own.
--
--   lua5.4 bench/kiamo_planning.lua URL [MODE]
--
-- URL is the server's base (BENCH_URL). MODE (BENCH_MODE):
--   request   s:request("GET", "/activities/planning", {body = ...}):
--             fetch and decode by the core (the default);
--   planning  s:get_planning{...}: the same, entries made objects;
--   decode    the core's raw fetch (prepare, perform, body), then
--             core.decode of the body, timed apart.
-- Prints wall=, cpu=, fetch= and decode= (decode mode), bytes= (body),
-- peak= (VmHWM after, less VmHWM before, in bytes), entries=, exact=
-- (1 when every activity and agent id is a Lua integer).

package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" ..
  package.path
local common = require "common"
local kiamo = require "kiamo"
local core = require "kiamo.core"

local url = common.base_url(common.arg(1, "BENCH_URL"))
local mode = common.arg(2, "BENCH_MODE", "request")

local s = kiamo.session{url = url, token = common.TOKEN}
local ARGS = {
  periods = {{"2024-05-06T00:00:00Z", "2024-05-27T00:00:00Z"}},
  activities = {}, agents = {1001},
}
local BODY = {periods = {{startTime = "2024-05-06T00:00:00Z",
                          endTime = "2024-05-27T00:00:00Z"}},
              activities = kiamo.array{}, agents = {1001}}

-- Number of entries and whether every id in them is an integer.
local function check(data)
  local exact = 1
  for _, e in ipairs(data) do
    if math.type(e.agent) ~= "integer" or
       math.type(e.activity) ~= "integer" then
      exact = 0
    end
  end
  return #data, exact
end

local MODES = {}

function MODES.request()
  local value, err = s:request("GET", "/activities/planning",
                               {body = BODY})
  assert(value, tostring(err))
  return {data = value.data}
end

function MODES.planning()
  local page, err = s:get_planning(ARGS)
  assert(page, tostring(err))
  return {data = page.data}
end

function MODES.decode()
  local wall, cpu = core.now(), os.clock()
  local req = s:prepare("GET", "/activities/planning", nil, BODY)
  assert(s:perform(req))
  local body = req:body()
  local fetched, fetch_cpu = core.now(), os.clock()
  local value = assert(core.decode(body))
  local decoded, decode_cpu = core.now(), os.clock()
  return {data = value.data, bytes = #body, fetch = fetched - wall,
          decode = decoded - fetched, decode_cpu = decode_cpu - fetch_cpu,
          fetch_cpu = fetch_cpu - cpu}
end

local run = MODES[mode] or error("mode must be request, planning or " ..
                                 "decode", 0)
collectgarbage("collect")
local base = common.status_bytes("VmHWM")
local wall, cpu = core.now(), os.clock()
local out = run()
wall, cpu = core.now() - wall, os.clock() - cpu
local peak = common.status_bytes("VmHWM") - base
out.entries, out.exact = check(out.data)
out.data = nil
s:close()
common.report{"wall", "cpu", "fetch", "decode", "fetch_cpu", "decode_cpu",
  "peak", "entries", "exact", wall = wall, cpu = cpu, fetch = out.fetch
  or -1, decode = out.decode or -1, fetch_cpu = out.fetch_cpu or -1,
  decode_cpu = out.decode_cpu or -1, peak = peak, entries = out.entries,
  exact = out.exact}

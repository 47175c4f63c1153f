-- bench/kiamo_multi.lua: kiamo, GETs with several in flight on one
-- session through s:run, each decoded and one field read.
--
--   lua5.4 bench/kiamo_multi.lua URL [COUNT [PARALLEL [MODE]]]
--
-- URL is the server's base (BENCH_URL), COUNT the number of requests
-- (BENCH_COUNT, default 20000), PARALLEL the concurrency (BENCH_PARALLEL,
-- default 32). MODE (BENCH_MODE) "workers": PARALLEL functions that
-- share the COUNT requests; "tasks": one function per request, COUNT
-- functions given to one s:run. Prints wall= and cpu= of the timed run.

package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" ..
  package.path
local common = require "common"
local kiamo = require "kiamo"
local core = require "kiamo.core"

local url = common.base_url(common.arg(1, "BENCH_URL"))
local count = common.arg(2, "BENCH_COUNT", 20000)
local parallel = common.arg(3, "BENCH_PARALLEL", 32)
local mode = common.arg(4, "BENCH_MODE", "workers")

local s = kiamo.session{url = url, token = common.TOKEN}
local field, bad = 0, 0

local function one()
  local agent = s:request("GET", "/agents/30")
  field = agent and agent.id
  if field ~= 30 then bad = bad + 1 end
end

-- The functions that together make n requests.
local function functions(n)
  local fs = {}
  if mode == "tasks" then
    for i = 1, n do fs[i] = one end
    return fs
  end
  local next_request = 0
  local function worker()
    while next_request < n do
      next_request = next_request + 1
      one()
    end
  end
  for i = 1, parallel do fs[i] = worker end
  return fs
end

if mode ~= "workers" and mode ~= "tasks" then
  error("mode must be workers or tasks", 0)
end
s:run(functions(common.WARMUP), {concurrency = parallel})
bad = 0
local wall, cpu = core.now(), os.clock()
local results = s:run(functions(count), {concurrency = parallel})
wall, cpu = core.now() - wall, os.clock() - cpu
for i = 1, results.n do
  if results[i][1] == nil and results[i][2] ~= nil then bad = bad + 1 end
end
s:close()
common.report{"wall", "cpu", "n", "field", "bad", wall = wall, cpu = cpu,
  n = count, field = field, bad = bad}
os.exit(bad == 0 and 0 or 1)

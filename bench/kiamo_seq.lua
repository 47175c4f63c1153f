-- bench/kiamo_seq.lua: kiamo, sequential GETs on one session (one
-- keep-alive connection), each decoded and one field read.
--
--   lua5.4 bench/kiamo_seq.lua URL [COUNT [MODE]]
--
-- URL is the server's base (BENCH_URL), COUNT the number of requests
-- (BENCH_COUNT, default 20000), MODE "request" for s:request("GET",
-- "/agents/30") or "agent" for s:agent(30) (BENCH_MODE). Prints wall=
-- and cpu= (process CPU time, os.clock) of the timed loop.

package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" ..
  package.path
local common = require "common"
local kiamo = require "kiamo"
local core = require "kiamo.core"

local url = common.base_url(common.arg(1, "BENCH_URL"))
local count = common.arg(2, "BENCH_COUNT", 20000)
local mode = common.arg(3, "BENCH_MODE", "request")

local s = kiamo.session{url = url, token = common.TOKEN}

local GETS = {
  request = function() return s:request("GET", "/agents/30") end,
  agent = function() return s:agent(30) end,
}
local get = GETS[mode] or error("mode must be request or agent", 0)

local field, bad = 0, 0
local wall, cpu
for i = 1 - common.WARMUP, count do
  if i == 1 then wall, cpu = core.now(), os.clock() end
  local agent = get()
  field = agent and agent.id
  if field ~= 30 then bad = bad + 1 end
end
wall, cpu = core.now() - wall, os.clock() - cpu
s:close()
common.report{"wall", "cpu", "n", "field", "bad", wall = wall, cpu = cpu,
  n = count, field = field, bad = bad}
os.exit(bad == 0 and 0 or 1)

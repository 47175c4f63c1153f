-- bench/kiamo_memory.lua: kiamo's resident memory over many GETs on one
-- session: RSS after the first tenth of them and after all, each read
-- after a full garbage collection.
--
--   lua5.4 bench/kiamo_memory.lua URL [COUNT [MODE]]
--
-- URL is the server's base (BENCH_URL), COUNT the number of GETs
-- (BENCH_COUNT, default 100000), MODE "agent" for s:agent(30) (the
-- default) or "request" for s:request (BENCH_MODE). Prints rss_first=,
-- rss_last= (bytes, VmRSS), growth= (their difference), wall=.

package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" ..
  package.path
local common = require "common"
local kiamo = require "kiamo"
local core = require "kiamo.core"

local url = common.base_url(common.arg(1, "BENCH_URL"))
local count = common.arg(2, "BENCH_COUNT", 100000)
local mode = common.arg(3, "BENCH_MODE", "agent")

local s = kiamo.session{url = url, token = common.TOKEN}
local GETS = {
  request = function() return s:request("GET", "/agents/30") end,
  agent = function() return s:agent(30) end,
}
local get = GETS[mode] or error("mode must be agent or request", 0)
local first_part = count // 10

local bad, rss_first = 0, 0
local wall = core.now()
for i = 1, count do
  local agent = get()
  if not agent or agent.id ~= 30 then bad = bad + 1 end
  if i == first_part then
    collectgarbage("collect")
    rss_first = common.status_bytes("VmRSS")
  end
end
collectgarbage("collect")
local rss_last = common.status_bytes("VmRSS")
wall = core.now() - wall
s:close()
common.report{"rss_first", "rss_last", "growth", "wall", "n", "bad",
  rss_first = rss_first, rss_last = rss_last,
  growth = rss_last - rss_first, wall = wall, n = count, bad = bad}
os.exit(bad == 0 and 0 or 1)

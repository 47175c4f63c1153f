-- bench/peer_luasocket.lua: the LuaSocket peer, socket.http (Lua 5.4)
-- with lua-cjson: sequential GETs, each body decoded and one field read.
-- socket.http sends "Connection: close", so each request opens a new
-- connection: that is how this peer is used.
--
--   lua5.4 bench/peer_luasocket.lua URL [COUNT]
--
-- URL is the server's base (BENCH_URL), COUNT the number of requests
-- (BENCH_COUNT, default 20000). Prints wall= and cpu= (os.clock).

package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" ..
  package.path
local common = require "common"
local socket = require "socket"
local http = require "socket.http"
local ltn12 = require "ltn12"
local cjson = require "cjson"

local url = common.base_url(common.arg(1, "BENCH_URL")) ..
  "/api/v3/agents/30"
local count = common.arg(2, "BENCH_COUNT", 20000)
local HEADERS = {["Kiamo-Api-Token"] = common.TOKEN,
                 ["Accept"] = "application/json"}

local function get()
  local chunks = {}
  local ok, status = http.request{url = url, headers = HEADERS,
    sink = ltn12.sink.table(chunks)}
  if not ok or status ~= 200 then return nil end
  return cjson.decode(table.concat(chunks))
end

local field, bad = 0, 0
local wall, cpu
for i = 1 - common.WARMUP, count do
  if i == 1 then wall, cpu = socket.gettime(), os.clock() end
  local agent = get()
  field = agent and math.tointeger(agent.id)
  if field ~= 30 then bad = bad + 1 end
end
wall, cpu = socket.gettime() - wall, os.clock() - cpu
common.report{"wall", "cpu", "n", "field", "bad", wall = wall, cpu = cpu,
  n = count, field = field, bad = bad}
os.exit(bad == 0 and 0 or 1)

-- bench/peer_cjson.lua: the plain Lua 5.4 way to read one large planning
-- page: fetch it with LuaSocket (socket.http), then cjson.decode; timed
-- once in a fresh process so that the peak memory is this read's own.
--
--   lua5.4 bench/peer_cjson.lua URL
--
-- URL is the server's base (BENCH_URL). Prints wall=, cpu=, fetch=,
-- decode= (and their CPU), peak= (VmHWM after less before, bytes),
-- entries=, exact= (1 when every activity and agent id is an integer).

package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" ..
  package.path
local common = require "common"
local socket = require "socket"
local http = require "socket.http"
local ltn12 = require "ltn12"
local cjson = require "cjson"

local url = common.base_url(common.arg(1, "BENCH_URL")) ..
  "/api/v3/activities/planning"
local BODY = cjson.encode{periods = {{startTime = "2024-05-06T00:00:00Z",
  endTime = "2024-05-27T00:00:00Z"}}, activities = {}, agents = {1001}}
local HEADERS = {["Kiamo-Api-Token"] = common.TOKEN,
                 ["Accept"] = "application/json",
                 ["Content-Type"] = "application/json",
                 ["Content-Length"] = tostring(#BODY)}

collectgarbage("collect")
local base = common.status_bytes("VmHWM")
local wall, cpu = socket.gettime(), os.clock()
local chunks = {}
local ok, status = http.request{url = url, method = "GET",
  headers = HEADERS, source = ltn12.source.string(BODY),
  sink = ltn12.sink.table(chunks)}
assert(ok and status == 200, "fetch failed: " .. tostring(status))
local body = table.concat(chunks)
chunks = nil  -- luacheck: ignore 311
local fetched, fetch_cpu = socket.gettime(), os.clock()
local value = cjson.decode(body)
local decoded, decode_cpu = socket.gettime(), os.clock()
local peak = common.status_bytes("VmHWM") - base
local exact = 1
for _, e in ipairs(value.data) do
  if math.type(e.agent) ~= "integer" or
     math.type(e.activity) ~= "integer" then
    exact = 0
  end
end
common.report{"wall", "cpu", "fetch", "decode", "fetch_cpu", "decode_cpu",
  "peak", "bytes", "entries", "exact", wall = decoded - wall,
  cpu = decode_cpu - cpu, fetch = fetched - wall,
  decode = decoded - fetched, fetch_cpu = fetch_cpu - cpu,
  decode_cpu = decode_cpu - fetch_cpu, peak = peak, bytes = #body,
  entries = #value.data, exact = exact}

-- bench/server.lua: the fixed-response server of the benchmarks.
--
-- Debian's nginx on a free loopback port, in its own temporary prefix
-- (pid file, error log, temporary files, the planning page), started and
-- stopped by the bench. As a module:
--
--   local server = require "server"   (with bench/ on package.path)
--   local srv = server.start{entries = 100000}
--   ... srv.url, srv.agent_url, srv.planning_url, srv.planning_bytes ...
--   srv:stop()
--
-- Alone, it serves until Enter is pressed (for running one script by
-- hand):
--
--   lua5.4 bench/server.lua [ENTRIES]

local socket = require "socket"

local server = {}

local Server = {}
Server.__index = Server
Server.__name = "bench.Server"

local NGINX = os.getenv("BENCH_NGINX") or "/usr/sbin/nginx"
local HERE = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".")
local LIMITS = {start_tries = 100, stop_tries = 100, pause = 0.05}

-- The agent of API.md, as GET /agents/30 answers it.
server.AGENT_JSON = '{"id": 30, "first_name": "John", "last_name": ' ..
  '"Smith", "login": "0005", "email": "js@example.com", "language": ' ..
  '"en_UK", "timezone": "Europe/Paris", "group": {"id": 2, "label": ' ..
  '"Aftersales Group"}, "team": {"id": "", "label": ""}, "avatar": ' ..
  '{"color": "grey", "url": null}, "preferences": []}'

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function write_file(path, s)
  local f = assert(io.open(path, "wb"))
  assert(f:write(s))
  assert(f:close())
end

local function free_port()
  local probe = assert(socket.bind("127.0.0.1", 0))
  local _, port = probe:getsockname()
  probe:close()
  return tonumber(port)
end

local ENTRY = '%s{"period":{"startTime":"2024-05-%02dT%02d:%02d:00Z",' ..
  '"endTime":"2024-05-%02dT%02d:%02d:00Z"},"activity":%d,"agent":%d}'

-- A planning page of n entries shaped like API.md's GET answer: one
-- entry per agent (1001 to 2000) and quarter hour, integer ids, and
-- meta.cursor with count n and next null.
function server.planning_page(n)
  local parts = {'{"data":['}
  local agents = 1000
  for i = 0, n - 1 do
    local slot = i // agents
    local day, quarter = 6 + slot // 96 % 20, slot % 96
    local hour, minute = quarter // 4, quarter % 4 * 15
    local stop_hour, stop_minute = (quarter + 1) // 4 % 24,
      (quarter + 1) % 4 * 15
    local agent = 1001 + i % agents
    parts[#parts + 1] = string.format(ENTRY, i == 0 and "" or ",", day,
      hour, minute, day, stop_hour, stop_minute, 10 + agent % 5, agent)
  end
  parts[#parts + 1] = string.format('],"meta":{"cursor":{"current":' ..
    '"c1","prev":null,"next":null,"count":%d}}}', n)
  return table.concat(parts)
end

local function answers(url)
  local host, port = url:match("^http://([^:/]+):(%d+)")
  local c = socket.tcp()
  c:settimeout(1)
  local ok = c:connect(host, tonumber(port))
  c:close()
  return ok == 1
end

-- server.start{entries = n, port = p} -> a running server.
function server.start(opts)
  opts = opts or {}
  local entries = opts.entries or 100000
  local pipe = assert(io.popen("mktemp -d /tmp/kiamo-bench.XXXXXX"))
  local prefix = assert(pipe:read("l"))
  pipe:close()
  local port = opts.port or free_port()
  local conf = read_file(HERE .. "/nginx.conf")
  conf = conf:gsub("@(%u+)@", {PREFIX = prefix, PORT = tostring(port),
                              AGENT = server.AGENT_JSON})
  write_file(prefix .. "/nginx.conf", conf)
  local page = server.planning_page(entries)
  write_file(prefix .. "/planning.json", page)
  local self = setmetatable({prefix = prefix, port = port,
    url = "http://127.0.0.1:" .. port,
    planning_bytes = #page, entries = entries}, Server)
  self.agent_url = self.url .. "/api/v3/agents/30"
  self.planning_url = self.url .. "/api/v3/activities/planning"
  os.execute(string.format("%s -p %s -c %s -e %s </dev/null >%s 2>&1 &",
    shell_quote(NGINX), shell_quote(prefix .. "/"),
    shell_quote(prefix .. "/nginx.conf"),
    shell_quote(prefix .. "/error.log"),
    shell_quote(prefix .. "/nginx.out")))
  for _ = 1, LIMITS.start_tries do
    if answers(self.url) then
      local f = io.open(prefix .. "/nginx.pid")
      if f then
        self.pid = tonumber(f:read("l"))
        f:close()
      end
      if self.pid then return self end
    end
    socket.sleep(LIMITS.pause)
  end
  local log = io.open(prefix .. "/error.log")
  local text = log and log:read("a") or ""
  if log then log:close() end
  self:stop()
  error("bench: nginx did not start on port " .. port .. ": " .. text, 0)
end

-- Stops nginx (the pid it wrote) and removes the prefix.
function Server:stop()
  if self.pid then
    os.execute("kill -TERM " .. self.pid .. " 2>/dev/null")
    for _ = 1, LIMITS.stop_tries do
      if not os.execute("kill -0 " .. self.pid .. " 2>/dev/null") then
        break
      end
      socket.sleep(LIMITS.pause)
    end
    self.pid = nil
  end
  if self.prefix and self.prefix:match("^/tmp/kiamo%-bench%.") then
    os.execute("rm -rf " .. shell_quote(self.prefix))
  end
  self.prefix = nil
end

if not pcall(debug.getlocal, 4, 1) then
  local srv = server.start{entries = tonumber(arg and arg[1])}
  print("agent:    " .. srv.agent_url)
  print("planning: " .. srv.planning_url .. " (" .. srv.planning_bytes ..
        " bytes)")
  print("base URL: " .. srv.url .. "  (press Enter to stop)")
  io.read("l")
  srv:stop()
end

return server

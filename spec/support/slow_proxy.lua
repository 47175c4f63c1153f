-- A TCP proxy on loopback that hands every byte coming back from the
-- upstream server to the client a fixed delay after it arrived, so that
-- each answer of a keep-alive connection is late by that delay. Requests
-- go upstream at once. Specs use it to make kiamo-mock slow.
--
--   local slow_proxy = require "support.slow_proxy"
--   local proxy = assert(slow_proxy.start{port = server.port,
--                                          delay = 0.05})
--   -- proxy.url ("http://127.0.0.1:PORT"), proxy.port
--   proxy:stop()
--
-- The proxy is a child process (lua5.4 spec/support/slow_proxy.lua
-- UPSTREAM_PORT DELAY): it prints "listening on PORT pid PID" once
-- ready, and stops on SIGTERM or when the process that started it is
-- gone.

local socket = require "socket"

local slow_proxy = {}

local SETTINGS = {
  start_timeout = 10,  -- seconds the child has to say it listens
  chunk = 65536,       -- bytes read at once
}

local Proxy = {}
Proxy.__index = Proxy
Proxy.__name = "slow_proxy.Proxy"

local function source_path()
  local source = debug.getinfo(1, "S").source
  return source:sub(2)
end

local function quote(text)
  return "'" .. tostring(text):gsub("'", "'\\''") .. "'"
end

-- Starts the proxy in front of 127.0.0.1:upstream port. Returns the
-- proxy, or nil and a message.
function slow_proxy.start(options)
  local command = string.format(
    "exec lua5.4 %s %d %s", quote(source_path()),
    math.floor(options.port), tostring(options.delay))
  local out = io.popen(command, "r")
  local line = out:read("l")
  local port = line and line:match("^listening on (%d+) pid (%d+)$")
  if not port then
    out:close()
    return nil, "slow_proxy: did not start: " .. tostring(line)
  end
  local pid = line:match("pid (%d+)$")
  return setmetatable({port = tonumber(port), pid = pid, out = out,
                       url = "http://127.0.0.1:" .. port}, Proxy)
end

-- Stops the proxy and waits for it. Stopping twice is harmless.
function Proxy:stop()
  if self.out then
    os.execute("kill " .. self.pid .. " 2>/dev/null")
    self.out:close()
    self.out = nil
  end
end

-- The child process ---------------------------------------------------

-- One connection pair: bytes from the client go upstream at once; bytes
-- from upstream wait in `late` until their time.
local function new_pair(client, upstream)
  client:settimeout(0)
  upstream:settimeout(0)
  return {client = client, upstream = upstream, late = {},
          to_upstream = ""}
end

-- Sends all of data on a non-blocking socket; false once it is closed.
local function send_all(sock, data)
  local i = 1
  while i <= #data do
    local sent, err, last = sock:send(data, i)
    if sent then
      i = sent + 1
    elseif err == "timeout" then
      i = last + 1
      socket.select(nil, {sock}, 1)
    else
      return false
    end
  end
  return true
end

local function receive_some(sock)
  local data, err, partial = sock:receive(SETTINGS.chunk)
  if data then return data end
  if partial and partial ~= "" then return partial, err end
  return nil, err
end

local function close_pair(pairs_, i)
  local p = pairs_[i]
  p.client:close()
  p.upstream:close()
  table.remove(pairs_, i)
end

-- This process's pid and its parent's, from /proc/self/stat.
local function ids()
  local file = assert(io.open("/proc/self/stat"))
  local stat = file:read("a")
  file:close()
  local pid = stat:match("^(%d+)")
  local ppid = stat:match("%) %a (%d+)")
  return tonumber(pid), tonumber(ppid)
end

local function serve(upstream_port, delay)
  local server = assert(socket.bind("127.0.0.1", 0))
  server:settimeout(0)
  local _, port = server:getsockname()
  local pid, parent = ids()
  io.stdout:write(string.format("listening on %d pid %d\n", port, pid))
  io.stdout:flush()
  local active = {}
  while select(2, ids()) == parent do
    local readers, timeout = {server}, 0.2
    local now = socket.gettime()
    for _, p in ipairs(active) do
      readers[#readers + 1] = p.client
      readers[#readers + 1] = p.upstream
      if p.late[1] then
        timeout = math.min(timeout, math.max(0, p.late[1].at - now))
      end
    end
    local ready = socket.select(readers, nil, timeout)
    if ready[server] then
      local client = server:accept()
      if client then
        local upstream = socket.tcp()
        upstream:settimeout(5)
        if upstream:connect("127.0.0.1", upstream_port) then
          active[#active + 1] = new_pair(client, upstream)
        else
          client:close()
        end
      end
    end
    now = socket.gettime()
    for i = #active, 1, -1 do
      local p, alive = active[i], true
      if ready[p.client] then
        local data = receive_some(p.client)
        alive = data ~= nil and send_all(p.upstream, data)
      end
      if alive and ready[p.upstream] then
        local data = receive_some(p.upstream)
        if data then
          p.late[#p.late + 1] = {at = now + delay, data = data}
        else
          p.upstream_closed = true
        end
      end
      while alive and p.late[1] and p.late[1].at <= socket.gettime() do
        alive = send_all(p.client, table.remove(p.late, 1).data)
      end
      if not alive or (p.upstream_closed and not p.late[1]) then
        close_pair(active, i)
      end
    end
  end
end

-- Run as a script, the first argument is the upstream port; required,
-- it is the module's name.
local first = ...
if first and first:match("^%d+$") then
  serve(tonumber(first), tonumber(select(2, ...)))
  return
end

return slow_proxy

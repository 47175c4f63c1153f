-- A tiny HTTP/1.1 server on 127.0.0.1 for the client's specs, run as a
-- child process (lua5.4 spec/support/loopback.lua MODE HEX-PAYLOAD):
--
--   local loopback = require "support.loopback"
--   local server = loopback.start("fixed", loopback.response(200,
--     {["Content-Type"] = "text/plain"}, "not json"))
--   finally(function() server:stop() end)
--   -- server.url ("http://127.0.0.1:PORT"), server:open_connections()
--
-- Modes: "fixed" answers every request with the payload (raw response
-- bytes) and keeps the connection; "echo" answers 200 with a JSON object
-- {method, path, query, content_type, headers (lower-case names), body}
-- describing the request;
-- "hang" reads requests and never answers; "blurt" writes the payload as
-- soon as any byte arrives, then closes; "delay" answers each request
-- with {"path": ..., "id": 30} after the payload's number of seconds,
-- and GET /__inflight answers {"max": N, "total": N}, the most requests
-- it held at once and how many it received. In every mode but "blurt"
-- and "hang", GET /__open answers {"open": N}, the number of other
-- client connections still open.

local socket = require "socket"

local SETTINGS = {start_timeout = 10, poll = 0.02}

local function to_hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function from_hex(s)
  return (s:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

-- The server, when this file runs as a program.
local function serve(mode, payload)
  local cjson = require "cjson"
  local server = assert(socket.bind("127.0.0.1", 0))
  server:settimeout(0)
  local _, port = server:getsockname()
  io.stdout:write(port, "\n")
  io.stdout:flush()
  local clients = {}
  local held, max_held, total = {}, 0, 0  -- "delay" mode

  local function answer(client, status, body)
    client.sock:send(string.format("HTTP/1.1 %d X\r\nContent-Type: "
      .. "application/json\r\nContent-Length: %d\r\n\r\n%s", status, #body,
      body))
  end

  local function handle(client)
    while true do
      local head_end = client.buf:find("\r\n\r\n", 1, true)
      if not head_end then return end
      local head = client.buf:sub(1, head_end - 1)
      local method, target = head:match("^(%u+) (%S+) HTTP/1%.%d")
      local headers = {}
      for name, value in head:gmatch("\r\n([^:\r\n]+):%s*([^\r\n]*)") do
        headers[name:lower()] = value
      end
      local length = tonumber(headers["content-length"] or "0")
      local available = #client.buf - (head_end + 3)
      if available < length then
        if headers.expect and not client.continued then
          client.continued = true
          client.sock:send("HTTP/1.1 100 Continue\r\n\r\n")
        end
        return
      end
      local body = client.buf:sub(head_end + 4, head_end + 3 + length)
      client.buf = client.buf:sub(head_end + 4 + length)
      client.continued = false
      local path, query = (target or ""):match("^([^?]*)%??(.*)$")
      if path == "/__open" then
        answer(client, 200, string.format('{"open": %d}', #clients - 1))
      elseif path == "/__inflight" then
        answer(client, 200, string.format('{"max": %d, "total": %d}',
          max_held, total))
      elseif mode == "delay" then
        total = total + 1
        held[#held + 1] = {client = client, path = path,
                           due = socket.gettime() + tonumber(payload)}
        max_held = math.max(max_held, #held)
      elseif mode == "echo" then
        answer(client, 200, cjson.encode{method = method, path = path,
          query = query, content_type = headers["content-type"] or "",
          headers = headers, body = body})
      elseif mode == "fixed" then
        client.sock:send(payload)
      end
    end
  end

  local function answer_due()
    local now, i = socket.gettime(), 1
    while i <= #held do
      local h = held[i]
      if h.due <= now then
        table.remove(held, i)
        answer(h.client, 200, string.format('{"path": "%s", "id": 30}',
          h.path))
      else
        i = i + 1
      end
    end
  end

  while true do
    local readers = {server}
    for _, client in ipairs(clients) do readers[#readers + 1] = client.sock end
    local ready = socket.select(readers, nil, #held > 0 and 0.005 or 1)
    answer_due()
    for _, sock in ipairs(ready) do
      if sock == server then
        local accepted = server:accept()
        if accepted then
          accepted:settimeout(0)
          clients[#clients + 1] = {sock = accepted, buf = ""}
        end
      else
        for i, client in ipairs(clients) do
          if client.sock == sock then
            local data, err, partial = sock:receive(65536)
            data = data or partial
            if data and #data > 0 then
              if mode == "blurt" then
                sock:send(payload)
                err = "closed"
              elseif mode ~= "hang" then
                client.buf = client.buf .. data
                handle(client)
              end
            end
            if err == "closed" then
              sock:close()
              table.remove(clients, i)
            end
            break
          end
        end
      end
    end
  end
end

if arg and arg[0] and arg[0]:match("loopback%.lua$") and ... == arg[1] then
  local mode, hex = ...
  serve(mode, from_hex(hex:sub(2)))
  return
end

local loopback = {}

local Server = {}
Server.__index = Server
Server.__name = "spec.Loopback"

local function source_path()
  return debug.getinfo(1, "S").source:match("^@(.*)$")
end

-- loopback.start(mode, payload) -> server, after it listens.
function loopback.start(mode, payload)
  local pipe = assert(io.popen(string.format(
    "echo $$; exec lua5.4 '%s' %s x%s", source_path(), mode,
    to_hex(payload or "")), "r"))
  local pid = tonumber(pipe:read("l"))
  local port = tonumber(pipe:read("l"))
  assert(pid and port, "loopback server did not start")
  return setmetatable({pipe = pipe, pid = pid, port = port,
    url = "http://127.0.0.1:" .. port}, Server)
end

-- Stops the server (SIGTERM to its pid) and reaps it; harmless twice.
function Server:stop()
  if self.stopped then return end
  self.stopped = true
  os.execute(string.format("kill -TERM %d 2>/dev/null", self.pid))
  self.pipe:close()
end

-- The number of client connections open at the server, once it equals
-- `expected` or after `timeout` seconds (default 10).
function Server:open_connections(expected, timeout)
  local deadline = socket.gettime() + (timeout or SETTINGS.start_timeout)
  local count
  repeat
    local sock = assert(socket.connect("127.0.0.1", self.port))
    sock:settimeout(SETTINGS.start_timeout)
    sock:send("GET /__open HTTP/1.1\r\nHost: x\r\n\r\n")
    local body = ""
    repeat
      local line = sock:receive("*l")
      local length = line and line:match("^Content%-Length: (%d+)")
      if length then body = tonumber(length) end
    until not line or line == ""
    body = sock:receive(body)
    sock:close()
    count = tonumber(body:match('"open": (%d+)'))
    if count == expected then return count end
    socket.sleep(SETTINGS.poll)
  until socket.gettime() > deadline
  return count
end

-- In "delay" mode: the most requests held at once, and the total.
function Server:inflight()
  local sock = assert(socket.connect("127.0.0.1", self.port))
  sock:settimeout(SETTINGS.start_timeout)
  sock:send("GET /__inflight HTTP/1.1\r\nHost: x\r\n\r\n")
  local length
  repeat
    local line = sock:receive("*l")
    length = length or (line and tonumber(line:match(
      "^Content%-Length: (%d+)")))
  until not line or line == ""
  local body = sock:receive(length)
  sock:close()
  return tonumber(body:match('"max": (%d+)')),
         tonumber(body:match('"total": (%d+)'))
end

-- Raw response bytes with a Content-Length.
function loopback.response(status, headers, body)
  local lines = {string.format("HTTP/1.1 %d X", status)}
  for name, value in pairs(headers or {}) do
    lines[#lines + 1] = name .. ": " .. value
  end
  lines[#lines + 1] = "Content-Length: " .. #(body or "")
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")
end

-- A loopback port nothing listens on (bound, then closed).
function loopback.closed_port()
  local sock = assert(socket.bind("127.0.0.1", 0))
  local _, port = sock:getsockname()
  sock:close()
  return tonumber(port)
end

return loopback

-- Start bin/kiamo-mock as a real process for a spec, and talk raw HTTP to
-- it with LuaSocket.
--
--   local mock_server = require "support.mock_server"
--   local server = assert(mock_server.start{fixture = path, state = path,
--     tokens = {"<40 hex>:GET"}, args = {"--idle-timeout", "1"},
--     quiet = true})
--   -- server.url ("http://127.0.0.1:PORT"), server.host, server.port
--   server:stop()  -- SIGTERM, returns "exit", 0
--
-- Always stop (or kill and wait) a started server: an unreaped one keeps
-- busted waiting at exit. mock_server.stop_all() in a teardown stops any
-- left; note that busted's finally keeps only the last function given.

local socket = require "socket"
local shell = require "support.shell"

local mock_server = {}

local started = {}  -- servers started and not stopped

local SETTINGS = {
  stop_timeout = 10,   -- seconds a server has to exit after SIGTERM
  run_timeout = 10,    -- seconds mock_server.run lets a command run
  io_timeout = 10,     -- seconds a raw read or write may block
}


local function repository_root()
  local source = debug.getinfo(1, "S").source
  local root = source:match("^@(.-)/?spec/support/mock_server%.lua$")
  if not root or root == "" then root = "." end
  if root:sub(1, 1) ~= "/" then
    root = (os.getenv("PWD") or ".") .. "/" .. root
  end
  return root
end

mock_server.ROOT = repository_root()
mock_server.COMMAND = mock_server.ROOT .. "/bin/kiamo-mock"


local quote = shell.quote
local read_file = shell.read_file


-- The command line arguments for options (see start).
local function arguments(options)
  local args = {}
  if options.port ~= false then
    args[#args + 1] = "--port"
    args[#args + 1] = tostring(options.port or 0)
  end
  if options.quiet ~= false then args[#args + 1] = "--quiet" end
  if options.fixture then
    args[#args + 1] = "--fixture"
    args[#args + 1] = options.fixture
  end
  if options.state then
    args[#args + 1] = "--state"
    args[#args + 1] = options.state
  end
  for _, token in ipairs(options.tokens or {}) do
    args[#args + 1] = "--token"
    args[#args + 1] = token
  end
  for _, arg in ipairs(options.args or {}) do args[#args + 1] = arg end
  return args
end


local function command_line(args)
  local words = {quote(mock_server.COMMAND)}
  for _, arg in ipairs(args) do words[#words + 1] = quote(arg) end
  return table.concat(words, " ")
end


local Server = {}
Server.__index = Server
Server.__name = "spec.MockServer"


-- True while the process exists and is not a zombie.
local function alive(pid)
  local stat = read_file("/proc/" .. pid .. "/stat") or ""
  if stat == "" then return false end
  return stat:match("^%d+ %b() (%a)") ~= "Z"
end


-- Sends a signal ("TERM", "INT", "KILL", ...) to the server.
function Server:kill(signal)
  os.execute(string.format("kill -%s %d 2>/dev/null", signal or "TERM",
                           self.pid))
end


-- Waits for the process to end. Returns how ("exit" or "signal") and the
-- code, as os.execute does. If it is still running after timeout
-- seconds (default SETTINGS.stop_timeout) it is killed (how is then
-- "signal" and code 9).
function Server:wait(timeout)
  if self.status then return self.status.how, self.status.code end
  local deadline = socket.gettime() + (timeout or SETTINGS.stop_timeout)
  while alive(self.pid) and socket.gettime() < deadline do
    socket.sleep(0.02)
  end
  if alive(self.pid) then self:kill("KILL") end
  local _, how, code = self.pipe:close()
  self.status = {how = how, code = code}
  started[self] = nil
  return how, code
end


-- Stops the server with SIGTERM (or signal) and waits for it. Returns
-- how and code (see wait). Stopping twice is harmless.
function Server:stop(signal)
  if not self.status then self:kill(signal or "TERM") end
  return self:wait()
end


-- What the server wrote on stderr so far.
function Server:stderr()
  return read_file(self.stderr_path) or ""
end


-- Opens a raw TCP connection to the server: a LuaSocket client with a
-- SETTINGS.io_timeout timeout.
function Server:connect()
  local sock = assert(socket.tcp())
  sock:settimeout(SETTINGS.io_timeout)
  assert(sock:connect(self.host, self.port))
  return sock
end


-- mock_server.start{fixture = FILE, state = FILE, tokens = {"HEX[:VERBS]",
-- ...}, args = {...}, quiet = true, port = 0}: starts the server and
-- waits for its first line. Returns the server, or nil, a message with
-- what it wrote on stderr, and how and code it exited with.
function mock_server.start(options)
  options = options or {}
  local stderr_path = os.tmpname()
  local pipe = assert(io.popen("echo $$; exec " ..
    command_line(arguments(options)) .. " 2>" .. quote(stderr_path), "r"))
  local pid = tonumber(pipe:read("l"))
  local line = pipe:read("l")
  local url, host, port = (line or ""):match(
    "^listening on (http://%[?([^%]]-)%]?:(%d+))$")
  if not url then
    local _, how, code = pipe:close()
    local message = read_file(stderr_path) or ""
    os.remove(stderr_path)
    return nil, "kiamo-mock did not start: " .. tostring(line) .. "\n" ..
      message, how, code
  end
  local server = setmetatable({pipe = pipe, pid = pid, url = url,
                               host = host, port = tonumber(port),
                               line = line, stderr_path = stderr_path},
                              Server)
  started[server] = true
  return server
end


-- Stops every server started and not yet stopped.
function mock_server.stop_all()
  for server in pairs(started) do server:stop() end
end


-- Runs kiamo-mock with the arguments of options (as start) to its end,
-- killing it after SETTINGS.run_timeout seconds. Returns its exit code,
-- its stdout and its stderr.
function mock_server.run(options)
  local stderr_path = os.tmpname()
  local pipe = assert(io.popen(string.format("timeout -s KILL %d %s 2>%s",
    SETTINGS.run_timeout, command_line(arguments(options or {})),
    quote(stderr_path)), "r"))
  local stdout = pipe:read("a")
  local _, _, code = pipe:close()
  local stderr = read_file(stderr_path) or ""
  os.remove(stderr_path)
  return code, stdout, stderr
end


-- Reads one HTTP response from a LuaSocket client. Returns a table
-- {status = 200, reason = "OK", version = "HTTP/1.1", headers = {...}
-- (lower-case names), head = "<raw head>", body = "..."}, or nil and
-- LuaSocket's error ("closed", "timeout"). The body is read by its
-- Content-Length, or to the close without one; a HEAD request has none,
-- pass no_body = true for it.
function mock_server.read_response(sock, no_body)
  local line, err = sock:receive("*l")
  if not line then return nil, err end
  local version, status, reason = line:match("^(HTTP/%d%.%d) (%d%d%d) ?(.*)$")
  if not version then return nil, "bad status line: " .. line end
  local response = {version = version, status = tonumber(status),
                    reason = reason, headers = {}}
  local head = {line}
  while true do
    line, err = sock:receive("*l")
    if not line then return nil, err end
    if line == "" then break end
    head[#head + 1] = line
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    response.headers[name:lower()] = value
  end
  response.head = table.concat(head, "\r\n") .. "\r\n\r\n"
  local length = tonumber(response.headers["content-length"])
  if no_body or response.status == 204 or response.status == 304 or
     response.status < 200 then
    response.body = ""
  elseif length then
    response.body, err = sock:receive(length)
    if not response.body then return nil, err end
  else
    local body, _, partial = sock:receive("*a")
    response.body = body or partial
  end
  return response
end


-- Sends raw bytes and reads one response (see read_response).
function mock_server.exchange(sock, raw)
  assert(sock:send(raw))
  return mock_server.read_response(sock)
end


return mock_server

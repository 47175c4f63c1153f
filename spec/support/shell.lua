-- Small helpers the specs share for files, shell commands and ports.

local socket = require "socket"

local shell = {}

-- text quoted for a POSIX shell
function shell.quote(text)
  return "'" .. tostring(text):gsub("'", "'\\''") .. "'"
end

-- The whole file, or nil when it cannot be read.
function shell.read_file(path)
  local file = io.open(path, "rb")
  if not file then return nil end
  local text = file:read("a")
  file:close()
  return text
end

function shell.write_file(path, text)
  local file = assert(io.open(path, "wb"))
  assert(file:write(text))
  assert(file:close())
end

-- A loopback port nothing listens on now (bound, then closed).
function shell.free_port()
  local probe = assert(socket.bind("127.0.0.1", 0))
  local _, port = probe:getsockname()
  probe:close()
  return tonumber(port)
end

return shell

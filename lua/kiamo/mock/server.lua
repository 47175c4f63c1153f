-- kiamo.mock.server: serve an application (kiamo.mock's, or anything with
-- the same handle method) over HTTP/1.1 on LuaSocket.
--
-- One process, non-blocking sockets, one coroutine per connection, all
-- driven by socket.select. A connection reads at most LIMITS.turn bytes
-- before it lets the others run, so a client sending a large body starves
-- nobody. The library prints nothing: access lines and warnings go to the
-- functions given as options.
--
-- Faults (option faults, see server.new): the server can misbehave on
-- purpose, per request, so that clients are tested against delays, error
-- statuses, dropped and truncated answers, bodies that are not JSON, slow,
-- gzip-encoded and oddly written answers. A delay parks the connection's
-- coroutine until its deadline; the others go on meanwhile.

local socket = require "socket"
local faults = require "kiamo.mock.faults"
local gzip = require "kiamo.mock.gzip"

local byte, find, format, gmatch, gsub, lower, match, sub =
  string.byte, string.find, string.format, string.gmatch, string.gsub,
  string.lower, string.match, string.sub
local concat = table.concat
local gettime = socket.gettime

local server = {}

local LIMITS = {
  body = 64 * 1024 * 1024,  -- request body, bytes (413 beyond)
  head = 64 * 1024,         -- request line and headers, bytes (431 beyond)
  chunk_line = 4096,        -- a chunk-size line with its extensions
  receive = 64 * 1024,      -- bytes asked of one receive
  turn = 256 * 1024,        -- bytes a connection reads before yielding
  request_cost = 4096,      -- what one request counts against the turn
  connections = 900,        -- below select's FD_SETSIZE (1024)
  accept_burst = 64,        -- connections accepted in one step
  small_body = 64 * 1024,   -- bodies sent in the same write as the head
}

local DEFAULTS = {
  host = "127.0.0.1",
  port = 8080,
  idle_timeout = 30,  -- seconds a connection may wait for the client
  linger = 2,         -- seconds spent draining input before a close
  poll = 0.2,         -- longest select wait, so run() sees its stop test
  backlog = 128,
}

local REASONS = {
  [100] = "Continue", [200] = "OK", [201] = "Created", [202] = "Accepted",
  [204] = "No Content", [301] = "Moved Permanently", [302] = "Found",
  [304] = "Not Modified", [400] = "Bad Request", [401] = "Unauthorized",
  [403] = "Forbidden", [404] = "Not Found", [405] = "Method Not Allowed",
  [408] = "Request Timeout", [409] = "Conflict",
  [413] = "Content Too Large", [415] = "Unsupported Media Type",
  [417] = "Expectation Failed", [422] = "Unprocessable Content",
  [429] = "Too Many Requests", [431] = "Request Header Fields Too Large",
  [500] = "Internal Server Error", [501] = "Not Implemented",
  [502] = "Bad Gateway", [503] = "Service Unavailable",
  [505] = "HTTP Version Not Supported",
}

-- What the server answers by itself, before or instead of the application.
local PROTOCOL_ERRORS = {
  [400] = "Malformed HTTP request",
  [413] = "Request body too large",
  [417] = "Expectation not supported",
  [431] = "Request header fields too large",
  [500] = "Internal server error",
  [501] = "Transfer coding not supported",
  [505] = "HTTP version not supported",
}

-- Response headers the server owns; the application's are dropped.
local SERVER_HEADERS = {
  ["content-length"] = true, ["connection"] = true, ["date"] = true,
  ["transfer-encoding"] = true,
}

-- How the server writes its own header lines: as usual, and in lower
-- case (the header-case fault).
local SERVER_LINES = {
  usual = {length = "Content-Length: ", date = "Date: ",
           close = "Connection: close\r\n",
           keep_alive = "Connection: keep-alive\r\n"},
  lower = {length = "content-length: ", date = "date: ",
           close = "connection: close\r\n",
           keep_alive = "connection: keep-alive\r\n"},
}

local TOKEN = "[%w!#$%%&'*+.^_`|~-]+"
local PATTERNS = {
  request_line = "^(" .. TOKEN .. ") (%S+) HTTP/(%d)%.(%d)\r?$",
  header_line = "^(" .. TOKEN .. "):[ \t]*(.-)[ \t]*\r?$",
  chunk_size = "^(%x+)[ \t]*(.-)\r?$",
  head_end = "\n\r?\n",
}

local CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n"

local FAULTS = {
  header = "x-kiamo-mock-fault",   -- the request header naming faults
  requests_route = "/__mock/requests",  -- the count of requests seen
  slow_seconds = 2,       -- how long a slow answer takes to drip
  slow_pieces = 20,       -- in how many writes
  garbage = "<html><body><h1>Temporarily unavailable</h1>"
    .. "<p>The proxy could not reach the application.</p></body></html>\n",
}


local status_lines = setmetatable({}, {__index = function(lines, status)
  local line = format("HTTP/1.1 %d %s\r\n", status,
                      REASONS[status] or "Unknown")
  lines[status] = line
  return line
end})


local date_second, date_text
local function http_date()
  local now = os.time()
  if now ~= date_second then
    date_second = now
    date_text = os.date("!%a, %d %b %Y %H:%M:%S GMT", now)
  end
  return date_text
end


-- The request target as an access line shows it: control, space and
-- non-ASCII bytes escaped, and any run of 40 or more hexadecimal digits
-- (a token put in a URL by mistake) replaced.
local function loggable(target)
  target = gsub(target, "%x+", function(digits)
    if #digits >= 40 then return "[hidden]" end
  end)
  return (gsub(target, "[%c%s\127-\255]", function(char)
    return format("%%%02X", byte(char))
  end))
end


---------------------------------------------------------------------------
-- Connection I/O, run inside the connection's coroutine. A connection is
-- a table: sock, server, buf and pos (unread input is buf from pos on),
-- budget (bytes left in this turn), want ("read", "write" or "ready") and
-- deadline (when "read" or "write" gives up), eof (input ended).

local function pause(conn, want, deadline)
  conn.want = want
  conn.deadline = deadline or gettime() + conn.server.idle_timeout
  coroutine.yield()
  conn.budget = LIMITS.turn
end


-- Parks the connection's coroutine for seconds, without reading or
-- writing; the server resumes it once the time is over.
local function nap(conn, seconds)
  conn.want = "sleep"
  conn.deadline = gettime() + seconds
  coroutine.yield()
  conn.budget = LIMITS.turn
end


-- Adds input to conn.buf, pausing until some arrives. Returns true, or
-- nil once the peer has closed or the connection failed.
local function more(conn, deadline)
  if conn.budget <= 0 then pause(conn, "ready") end
  while not conn.eof do
    local data, err, partial = conn.sock:receive(LIMITS.receive)
    if not data then
      if err ~= "timeout" then conn.eof = true end
      data = partial
    end
    if data and #data > 0 then
      conn.budget = conn.budget - #data
      if conn.pos > #conn.buf then
        conn.buf = data
      else
        conn.buf = sub(conn.buf, conn.pos) .. data
      end
      conn.pos = 1
      return true
    end
    if not conn.eof then pause(conn, "read", deadline) end
  end
  return nil
end


-- Sends data whole. Returns true, or nil if the connection failed.
local function send_all(conn, data)
  local first, last = 1, #data
  while first <= last do
    local sent, err, partial = conn.sock:send(data, first)
    if sent then return true end
    if err ~= "timeout" then
      conn.eof = true
      return nil
    end
    first = partial + 1
    pause(conn, "write")
  end
  return true
end


-- Reads n bytes into the array parts. Returns true, or nil on close.
local function read_exact(conn, n, parts)
  while true do
    local buf, pos = conn.buf, conn.pos
    local available = #buf - pos + 1
    if available >= n then
      if n > 0 then
        if pos == 1 and n == #buf then
          parts[#parts + 1] = buf
        else
          parts[#parts + 1] = sub(buf, pos, pos + n - 1)
        end
        conn.pos = pos + n
      end
      return true
    end
    if available > 0 then
      parts[#parts + 1] = pos == 1 and buf or sub(buf, pos)
      n = n - available
    end
    conn.buf, conn.pos = "", 1
    if not more(conn) then return nil end
  end
end


-- Reads one line (without its CRLF or LF) of at most limit bytes.
-- Returns the line, or nil and "long" or "closed".
local function read_line(conn, limit)
  while true do
    local stop = find(conn.buf, "\n", conn.pos, true)
    if stop then
      local line = sub(conn.buf, conn.pos, stop - 1)
      conn.pos = stop + 1
      if byte(line, -1) == 13 then line = sub(line, 1, -2) end
      if #line > limit then return nil, "long" end
      return line
    end
    if #conn.buf - conn.pos > limit then return nil, "long" end
    if not more(conn) then return nil, "closed" end
  end
end


-- Stops sending, then reads and drops input until the peer closes or the
-- linger time is out, so that the peer reads our last response before
-- the close instead of a reset.
local function linger(conn)
  conn.sock:shutdown("send")
  local deadline = gettime() + conn.server.linger
  conn.buf, conn.pos = "", 1
  while more(conn, deadline) do
    conn.buf, conn.pos = "", 1
    if gettime() >= deadline then return end
  end
end


---------------------------------------------------------------------------
-- Requests and responses

-- Fills conn.out with the head of a response and returns how many parts
-- it holds, and the body to send after it ("" when there is none). close
-- says that the connection ends after it. With lower_case, header names
-- go out in lower case and the application's headers twice each.
local function head_parts(conn, request, status, headers, body, close,
                          lower_case)
  local out = conn.out
  out[1] = status_lines[status]
  local n = 1
  for name, value in pairs(headers) do
    if not SERVER_HEADERS[lower(name)] then
      if lower_case then
        name = lower(name)
        out[n + 1], out[n + 2], out[n + 3], out[n + 4] =
          name, ": ", value, "\r\n"
        n = n + 4
      end
      out[n + 1], out[n + 2], out[n + 3], out[n + 4] =
        name, ": ", value, "\r\n"
      n = n + 4
    end
  end
  local lines = lower_case and SERVER_LINES.lower or SERVER_LINES.usual
  if status == 204 or status == 304 or status < 200 then
    body = ""
  else
    out[n + 1], out[n + 2], out[n + 3] = lines.length, #body, "\r\n"
    n = n + 3
  end
  out[n + 1], out[n + 2], out[n + 3] = lines.date, http_date(), "\r\n"
  n = n + 3
  if close then
    n = n + 1
    out[n] = lines.close
  elseif request and request.minor == 0 then
    n = n + 1
    out[n] = lines.keep_alive
  end
  n = n + 1
  out[n] = "\r\n"
  if request and request.method == "HEAD" then body = "" end
  return n, body
end


-- Writes a response. close says that the connection ends after it.
local function respond(conn, request, status, headers, body, close)
  local n
  n, body = head_parts(conn, request, status, headers, body, close)
  local out = conn.out
  if #body <= LIMITS.small_body then
    n = n + 1
    out[n] = body
    return send_all(conn, concat(out, "", 1, n))
  end
  return send_all(conn, concat(out, "", 1, n)) and send_all(conn, body)
end


-- Writes the access line of a request; status is "-" when none was
-- sent, note (the faults acted on) is added after the time.
local function log_access(conn, request, status, note)
  local log = conn.server.log
  if not log then return end
  local method, target = "-", "-"
  if request then
    method, target = request.method, loggable(request.target)
  end
  local line = format("%s %s %s %.2f ms", method, target, status,
                      (gettime() - conn.started) * 1000)
  if note then line = line .. " fault: " .. note end
  log(line)
end


-- Answers a protocol error by the server itself and ends the connection.
local function refuse(conn, request, status)
  local body = format('{"info": "%s"}', PROTOCOL_ERRORS[status])
  if respond(conn, request, status, {["Content-Type"] = "application/json"},
             body, true) then
    log_access(conn, request, status)
    linger(conn)
  end
end


-- Parses the head (request line and header lines, CRLF or LF ended).
-- Returns the request, or nil and the status to refuse it with.
local function parse_head(head)
  local stop = find(head, "\n", 1, true)
  local method, target, major, minor =
    match(sub(head, 1, stop - 1), PATTERNS.request_line)
  if not method then return nil, 400 end
  local request = {method = method, target = target,
                   minor = tonumber(minor)}
  if major ~= "1" then return request, 505 end
  local headers, lengths = {}, nil
  local from = stop + 1
  while true do
    stop = find(head, "\n", from, true)
    local line = sub(head, from, stop - 1)
    from = stop + 1
    if line == "" or line == "\r" then break end
    local name, value = match(line, PATTERNS.header_line)
    if not name then return request, 400 end
    name = lower(name)
    if name == "content-length" then
      lengths = lengths and lengths .. "," .. value or value
    end
    local previous = headers[name]
    headers[name] = previous and previous .. ", " .. value or value
  end
  request.headers = headers
  local query_start = find(target, "?", 1, true)
  if query_start then
    request.path = sub(target, 1, query_start - 1)
    request.query = sub(target, query_start + 1)
  else
    request.path = target
  end
  local connection = headers.connection
  connection = connection and lower(connection) or ""
  if request.minor == 0 then
    request.keep_alive = find(connection, "keep-alive", 1, true) ~= nil
  else
    request.keep_alive = not find(connection, "close", 1, true)
  end
  local coding = headers["transfer-encoding"]
  if coding then
    if lengths then return request, 400 end
    if lower(coding) ~= "chunked" then return request, 501 end
    request.chunked = true
  elseif lengths then
    local length
    for item in gsub(lengths, "[ \t]", ""):gmatch("[^,]*") do
      if not match(item, "^%d+$") then return request, 400 end
      if length and item ~= length then return request, 400 end
      length = item
    end
    length = gsub(length, "^0+(%d)", "%1")
    if #length > 12 or tonumber(length) > LIMITS.body then
      return request, 413
    end
    request.length = tonumber(length)
  end
  local expect = headers.expect
  if expect then
    if lower(expect) ~= "100-continue" then return request, 417 end
    request.continue = request.minor > 0
  end
  return request
end


-- Reads the head of the next request, empty lines before it skipped.
-- Returns it as a string, or nil and the status to refuse the request
-- with (nil when the peer closed before a request began). The whole head
-- must arrive within the idle timeout: a client dripping a byte now and
-- then cannot hold its connection forever.
local function read_head(conn)
  local deadline = gettime() + conn.server.idle_timeout
  conn.reading_head = true
  local from = conn.pos
  while true do
    local buf = conn.buf
    local start = match(buf, "^[\r\n]*()", conn.pos)
    conn.pos = start
    if from < start then from = start end
    local _, stop = find(buf, PATTERNS.head_end, from)
    if stop then
      conn.reading_head = false
      if stop - start + 1 > LIMITS.head then return nil, 431 end
      conn.pos = stop + 1
      return sub(buf, start, stop)
    end
    local scanned = #buf - start + 1
    if scanned > LIMITS.head then return nil, 431 end
    if not more(conn, deadline) then
      return nil, scanned > 0 and 400 or nil
    end
    from = conn.pos + math.max(0, scanned - 2)
  end
end


-- Reads a chunked body into parts, trailers dropped. Returns true, or nil
-- and a status (nil when the peer closed).
local function read_chunked(conn, parts)
  local total = 0
  while true do
    local line, err = read_line(conn, LIMITS.chunk_line)
    if not line then return nil, err == "long" and 400 or nil end
    local digits, rest = match(line, PATTERNS.chunk_size)
    if not digits or (rest ~= "" and byte(rest) ~= 59) then  -- ";"
      return nil, 400
    end
    digits = gsub(digits, "^0+(%x)", "%1")
    if #digits > 8 then return nil, 413 end
    local size = tonumber(digits, 16)
    total = total + size
    if total > LIMITS.body then return nil, 413 end
    if size == 0 then break end
    if not read_exact(conn, size, parts) then return nil end
    line, err = read_line(conn, 0)
    if not line then return nil, err == "long" and 400 or nil end
  end
  local trailers = 0
  while true do
    local line, err = read_line(conn, LIMITS.head)
    if not line then return nil, err == "long" and 431 or nil end
    if line == "" then return true end
    trailers = trailers + #line
    if trailers > LIMITS.head then return nil, 431 end
    if not match(line, PATTERNS.header_line) then return nil, 400 end
  end
end


-- Reads the next request, body included. Returns the request, or nil and
-- the status to refuse it with (nil when the peer closed or failed).
local function read_request(conn)
  local head, refusal = read_head(conn)
  conn.started = gettime()
  if not head then return nil, refusal end
  local request, status = parse_head(head)
  if status then return request, status end
  if not (request.chunked or request.length) then return request end
  if request.continue then
    if not send_all(conn, CONTINUE) then return nil end
  end
  local parts = {}
  if request.chunked then
    local ok
    ok, status = read_chunked(conn, parts)
    if not ok then return request, status end
  elseif not read_exact(conn, request.length, parts) then
    return nil
  end
  request.body = #parts == 1 and parts[1] or concat(parts)
  return request
end


-- Runs the application on a request. Returns status, headers, body.
local function answer(conn, request)
  local app = conn.server.app
  local ok, status, headers, body = pcall(app.handle, app, {
    method = request.method, path = request.path, query = request.query,
    headers = request.headers, body = request.body,
  })
  if ok and math.type(status) == "integer" and status >= 200 and
     status <= 599 and type(headers) == "table" and type(body) == "string"
  then
    return status, headers, body
  end
  local warn = conn.server.warn
  if warn then
    warn(format("application failed on %s %s: %s", request.method,
                loggable(request.path),
                ok and "it returned no valid response" or tostring(status)))
  end
  return 500, {["Content-Type"] = "application/json"},
         format('{"info": "%s"}', PROTOCOL_ERRORS[500])
end


---------------------------------------------------------------------------
-- Faults

-- Whether the request accepts a gzip-encoded answer (Accept-Encoding
-- names gzip, x-gzip or *, with a weight other than 0).
local function accepts_gzip(request)
  local accepted = request.headers["accept-encoding"]
  if not accepted then return false end
  for item in gmatch(lower(accepted), "[^,]+") do
    local coding, parameters = match(item, "^%s*([^;%s]+)%s*(.-)%s*$")
    if coding == "gzip" or coding == "x-gzip" or coding == "*" then
      local weight = match(parameters or "", "q%s*=%s*([%d.]+)")
      return not weight or tonumber(weight) ~= 0
    end
  end
  return false
end


-- The fault to act on for a request, or nil; nil and a message when its
-- fault header cannot be read. The first option counts the requests
-- that fall under the all option (those without a fault header).
local function fault_of(self, request)
  local chosen = self.faults
  local text = chosen.header and request.headers[FAULTS.header]
  if text then return faults.parse(text) end
  if not chosen.all then return nil end
  self.defaulted = self.defaulted + 1
  if chosen.first and self.defaulted > chosen.first then return nil end
  return chosen.all
end


-- Sends data in pieces spread over seconds.
local function drip(conn, data, seconds)
  local size = math.ceil(#data / math.min(FAULTS.slow_pieces, #data))
  local pieces = math.ceil(#data / size)
  for first = 1, #data, size do
    if first > 1 then nap(conn, seconds / (pieces - 1)) end
    if not send_all(conn, sub(data, first, first + size - 1)) then
      return nil
    end
  end
  return true
end


-- The answer a fault puts in place of the application's: status,
-- headers, body; nil when the application answers.
local function replacement(fault)
  if fault.garbage then
    return fault.status or 200, {["Content-Type"] = "text/html"},
           FAULTS.garbage
  elseif fault.status then
    return fault.status, {["Content-Type"] = "application/json"},
           format('{"info": "Fault made by kiamo-mock: %d %s"}',
                  fault.status, REASONS[fault.status] or "Unknown")
  end
  return nil
end


-- Answers a request the way fault says. Returns true when the
-- connection goes on with the next request.
local function misbehave(conn, request, fault)
  local note = faults.describe(fault)
  if fault.close then
    if fault.delay then nap(conn, fault.delay) end
    log_access(conn, request, "-", note)
    return false
  end
  local status, headers, body = replacement(fault)
  if not status then status, headers, body = answer(conn, request) end
  if fault.retry_after then
    headers["Retry-After"] = tostring(fault.retry_after)
  end
  if fault.gzip and body ~= "" and status ~= 204 and status ~= 304 then
    if accepts_gzip(request) then
      body = gzip.encode(body)
      headers["Content-Encoding"] = "gzip"
      headers["Vary"] = "Accept-Encoding"
    else
      note = note .. " (gzip not accepted)"
    end
  end
  if fault.delay then nap(conn, fault.delay) end
  local close = not request.keep_alive or fault.truncate
  local n
  n, body = head_parts(conn, request, status, headers, body, close,
                       fault.header_case)
  local data = concat(conn.out, "", 1, n) .. body
  if fault.truncate then
    -- Half the body; half the head when there is no body.
    local cut = #body > 0 and #data - #body + #body // 2 or #data // 2
    if send_all(conn, sub(data, 1, cut)) then
      log_access(conn, request, status, note)
      linger(conn)
    end
    return false
  end
  local sent
  if fault.slow then
    sent = drip(conn, data, FAULTS.slow_seconds)
  else
    sent = send_all(conn, data)
  end
  if not sent then return false end
  log_access(conn, request, status, note)
  if close then
    linger(conn)
    return false
  end
  return true
end


-- Answers one request with faults on: the count of requests, a fault, a
-- refusal of a bad fault header, or the application's answer. Returns
-- true when the connection goes on with the next request.
local function serve_faulty(conn, request)
  local self = conn.server
  local status, headers, body
  if request.path == FAULTS.requests_route then
    status, headers, body = 200, {["Content-Type"] = "application/json"},
      format('{"requests": %d}', self.requests)
  else
    self.requests = self.requests + 1
    local fault, problem = fault_of(self, request)
    if fault and next(fault) then return misbehave(conn, request, fault) end
    if problem then
      status, headers = 400, {["Content-Type"] = "application/json"}
      body = format('{"info": "%s"}', (gsub(problem, '["\\]', "\\%0")))
    else
      status, headers, body = answer(conn, request)
    end
  end
  local close = not request.keep_alive
  if not respond(conn, request, status, headers, body, close) then
    return false
  end
  log_access(conn, request, status)
  if close then
    linger(conn)
    return false
  end
  return true
end


-- The body of a connection's coroutine: requests one after the other.
local function serve(conn)
  while true do
    local request, status = read_request(conn)
    if status then
      refuse(conn, request, status)
      return
    end
    if not request then return end
    if conn.server.faults then
      if not serve_faulty(conn, request) then return end
    else
      local headers, body
      status, headers, body = answer(conn, request)
      local close = not request.keep_alive
      if not respond(conn, request, status, headers, body, close) then
        return
      end
      log_access(conn, request, status)
      if close then
        linger(conn)
        return
      end
    end
    conn.budget = conn.budget - LIMITS.request_cost
    if conn.budget <= 0 then pause(conn, "ready") end
  end
end


---------------------------------------------------------------------------
-- The server

local methods = {}
local metatable = {__name = "kiamo.mock.Server", __index = methods}


-- Opens a listening socket on host and port. Returns it, or nil and a
-- message.
local function listen(host, port, backlog)
  local addresses, err = socket.dns.getaddrinfo(host)
  if not addresses then return nil, err end
  for _, address in ipairs(addresses) do
    local sock
    if address.family == "inet6" then
      sock, err = socket.tcp6()
    else
      sock, err = socket.tcp4()
    end
    if sock then
      sock:setoption("reuseaddr", true)
      local ok
      ok, err = sock:bind(address.addr, port)
      if ok then ok, err = sock:listen(backlog) end
      if ok then
        sock:settimeout(0)
        return sock
      end
      sock:close()
    end
  end
  return nil, err or "no address"
end


-- server.new{app = app, host = ..., port = ..., idle_timeout = seconds,
-- max_connections = n (at most 900, select's limit), log =
-- function(line), warn = function(message), faults = {...}}:
-- listens at once. app:handle(request) returns status, headers, body (see
-- kiamo.mock). Returns the server, or nil and a message naming the
-- address.
--
-- faults, when given, is {header = true (act on a request's
-- X-Kiamo-Mock-Fault header), all = fault (act on every request without
-- that header; a table from kiamo.mock.faults.parse), first = n (only on
-- the first n of those)}. With faults, GET /__mock/requests answers
-- {"requests": n}, the number of requests received so far, that one not
-- counted. A fault replaces or spoils the answer: see misbehave.
function server.new(options)
  assert(type(options) == "table" and options.app,
         "server.new needs an options table with an app")
  local host = options.host or DEFAULTS.host
  local port = options.port or DEFAULTS.port
  local listener, err = listen(host, port, DEFAULTS.backlog)
  if not listener then
    return nil, format("cannot listen on %s port %s: %s", host, port, err)
  end
  local self = setmetatable({
    app = options.app,
    listener = listener,
    idle_timeout = options.idle_timeout or DEFAULTS.idle_timeout,
    max_connections = options.max_connections or LIMITS.connections,
    linger = math.min(DEFAULTS.linger,
                      options.idle_timeout or DEFAULTS.linger),
    log = options.log,
    warn = options.warn,
    faults = options.faults,
    requests = 0,  -- requests received, counted with faults only
    defaulted = 0,  -- of which under faults.all
    connections = {},  -- socket -> connection
    count = 0,
    recvt = {},
    sendt = {},
    next_sweep = 0,
  }, metatable)
  return self
end


-- Returns the address listened on: host and port (the real port when 0
-- was asked).
function methods:address()
  local host, port = self.listener:getsockname()
  return host, tonumber(port)
end


-- Returns the base URL, "http://host:port" ([host] for IPv6).
function methods:url()
  local host, port = self:address()
  if find(host, ":", 1, true) then host = "[" .. host .. "]" end
  return format("http://%s:%d", host, port)
end


local function drop(self, conn)
  if self.connections[conn.sock] then
    self.connections[conn.sock] = nil
    self.count = self.count - 1
  end
  conn.sock:close()
end


local function resume(self, conn, ...)
  local ok, err = coroutine.resume(conn.co, ...)
  if not ok then
    if self.warn then self.warn("connection failed: " .. tostring(err)) end
    drop(self, conn)
  elseif coroutine.status(conn.co) == "dead" then
    drop(self, conn)
  end
end


-- When every place is taken, the connection that has waited longest for
-- a request head makes room, so that idle or dripping clients cannot
-- lock the others out. Returns whether there is room.
local function make_room(self)
  local oldest
  for _, conn in pairs(self.connections) do
    if conn.reading_head and conn.want == "read" and
       (not oldest or conn.deadline < oldest.deadline) then
      oldest = conn
    end
  end
  if oldest then drop(self, oldest) end
  return self.count < self.max_connections
end


local function accept(self)
  for _ = 1, LIMITS.accept_burst do
    if self.count >= self.max_connections and not make_room(self) then
      return
    end
    local sock = self.listener:accept()
    if not sock then return end
    sock:settimeout(0)
    sock:setoption("tcp-nodelay", true)
    local conn = {sock = sock, server = self, buf = "", pos = 1,
                  budget = LIMITS.turn, out = {}, want = "read",
                  deadline = gettime() + self.idle_timeout}
    conn.co = coroutine.create(serve)
    self.connections[sock] = conn
    self.count = self.count + 1
    resume(self, conn, conn)
  end
end


-- Closes the connections whose wait is over.
local function sweep(self, now)
  for _, conn in pairs(self.connections) do
    if conn.want ~= "ready" and conn.want ~= "sleep" and
       conn.deadline <= now then
      drop(self, conn)
    end
  end
end


-- Serves what is pending, waiting at most timeout seconds for something
-- to happen.
function methods:step(timeout)
  local recvt, sendt = self.recvt, self.sendt
  local nrecv, nsend, ready, wake = 0, 0, false, nil
  local evictable = false
  for sock, conn in pairs(self.connections) do
    local want = conn.want
    if want == "read" then
      nrecv = nrecv + 1
      recvt[nrecv] = sock
      evictable = evictable or conn.reading_head
    elseif want == "write" then
      nsend = nsend + 1
      sendt[nsend] = sock
    elseif want == "sleep" then
      if not wake or conn.deadline < wake then wake = conn.deadline end
    else
      ready = true
    end
  end
  if self.count < self.max_connections or evictable then
    nrecv = nrecv + 1  -- when full, accept makes room
    recvt[nrecv] = self.listener
  end
  for i = #recvt, nrecv + 1, -1 do recvt[i] = nil end
  for i = #sendt, nsend + 1, -1 do sendt[i] = nil end
  if ready then
    timeout = 0
  elseif wake then
    timeout = math.max(0, math.min(timeout, wake - gettime()))
  end
  local readable, writable = socket.select(recvt, sendt, timeout)
  local connections = self.connections
  for _, sock in ipairs(readable) do
    if sock == self.listener then
      accept(self)
    else
      local conn = connections[sock]
      if conn and conn.want == "read" then resume(self, conn) end
    end
  end
  for _, sock in ipairs(writable) do
    local conn = connections[sock]
    if conn and conn.want == "write" then resume(self, conn) end
  end
  if ready then
    for _, conn in pairs(connections) do
      if conn.want == "ready" then resume(self, conn) end
    end
  end
  local now = gettime()
  if wake and wake <= now then
    for _, conn in pairs(connections) do
      if conn.want == "sleep" and conn.deadline <= now then
        resume(self, conn)
      end
    end
  end
  if now >= self.next_sweep then
    self.next_sweep = now + 0.25
    sweep(self, now)
  end
end


-- Serves until stop() returns true (checked at least every 0.2 s), then
-- closes everything.
function methods:run(stop)
  while not stop() do
    self:step(DEFAULTS.poll)
  end
  self:close()
end


-- Closes the listener and every connection. Closing twice is harmless.
function methods:close()
  for _, conn in pairs(self.connections) do
    drop(self, conn)
  end
  self.listener:close()
end


server.LIMITS = LIMITS
server.DEFAULTS = DEFAULTS

return server

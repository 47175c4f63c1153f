-- kiamo-mock over real HTTP: the bin/kiamo-mock process, raw sockets.

local socket = require "socket"
local mock_server = require "support.mock_server"

local TOKEN = "68d27ac06e53fef962c49a4b0d18691019c3a31a"
local MiB = 1024 * 1024

local read_response = mock_server.read_response


-- A raw request: method, target, extra header lines (array), body.
local function raw(method, target, headers, body)
  local lines = {method .. " " .. target .. " HTTP/1.1",
                 "Host: 127.0.0.1", "Kiamo-Api-Token: " .. TOKEN}
  for _, line in ipairs(headers or {}) do lines[#lines + 1] = line end
  if body then lines[#lines + 1] = "Content-Length: " .. #body end
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")
end

local AGENT = raw("GET", "/api/v3/agents/30")


-- An agent creation body with a login unique to this run.
local function agent_body()
  local login = string.format("spec%d%d", os.time(), math.random(1e9))
  return string.format('{"last_name": "Spec", "login": "%s", "group": 1}',
                       login), login
end


-- True once the peer has closed sock (reading gives "closed").
local function closed(sock)
  sock:settimeout(5)
  local data, err = sock:receive(1)
  return data == nil and err == "closed"
end


-- Clean-ups run after each test, last deferred first (busted's finally
-- keeps only the last function given to it).
local deferred = {}
local function defer(clean_up)
  deferred[#deferred + 1] = clean_up
end


local function temp_file(content)
  local path = os.tmpname()
  if content then
    local file = assert(io.open(path, "wb"))
    file:write(content)
    file:close()
  else
    os.remove(path)
  end
  return path
end


describe("kiamo-mock", function()
  after_each(function()
    for i = #deferred, 1, -1 do
      pcall(deferred[i])
      deferred[i] = nil
    end
  end)

  teardown(function()
    mock_server.stop_all()
  end)

  describe("starting", function()
    it("prints its URL with the real port when asked for port 0", function()
      local server = assert(mock_server.start())
      defer(function() server:stop() end)
      assert.matches("^listening on http://127%.0%.0%.1:%d+$", server.line)
      assert.is_not.equal(0, server.port)
      local sock = server:connect()
      defer(function() sock:close() end)
      assert.equal(200, mock_server.exchange(sock, AGENT).status)
    end)

    it("prints its usage with --help and exits 0", function()
      local code, stdout = mock_server.run{port = false, quiet = false,
                                           args = {"--help"}}
      assert.equal(0, code)
      assert.matches("usage: kiamo%-mock", stdout)
    end)

    it("refuses a bad argument with its usage on stderr, status 2",
       function()
      for _, args in ipairs{{"--bogus"}, {"--port", "http"},
                            {"--port", "70000"}, {"--token", "abc"},
                            {"--token", TOKEN .. ":GET,FETCH"}, {"--port"}} do
        local code, stdout, stderr = mock_server.run{args = args}
        assert.equal(2, code, table.concat(args, " "))
        assert.equal("", stdout)
        assert.matches("usage: kiamo%-mock", stderr)
      end
    end)

    it("refuses a fixture file that does not exist, naming it, status 2",
       function()
      local path = temp_file()
      local code, stdout, stderr = mock_server.run{fixture = path}
      assert.equal(2, code)
      assert.equal("", stdout)
      assert.truthy(stderr:find(path, 1, true), stderr)
    end)

    it("refuses a fixture file that is not JSON, naming it, status 2",
       function()
      local path = temp_file("this is no fixture")
      defer(function() os.remove(path) end)
      local code, stdout, stderr = mock_server.run{fixture = path}
      assert.equal(2, code)
      assert.equal("", stdout)
      assert.truthy(stderr:find(path, 1, true), stderr)
      local _, lines = stderr:gsub("\n", "")
      assert.equal(1, lines)
    end)

    it("refuses a port in use, naming it, status 2", function()
      local server = assert(mock_server.start())
      defer(function() server:stop() end)
      local code, stdout, stderr = mock_server.run{port = server.port}
      assert.equal(2, code)
      assert.equal("", stdout)
      assert.matches("port " .. server.port .. ".*in use", stderr)
    end)
  end)

  describe("stopping", function()
    it("exits 0 on SIGTERM", function()
      local server = assert(mock_server.start())
      local sock = server:connect()
      defer(function() sock:close() end)
      assert.equal(200, mock_server.exchange(sock, AGENT).status)
      local how, code = server:stop("TERM")
      assert.equal("exit", how)
      assert.equal(0, code)
    end)

    it("exits 0 on SIGINT", function()
      local server = assert(mock_server.start())
      local how, code = server:stop("INT")
      assert.equal("exit", how)
      assert.equal(0, code)
    end)
  end)

  describe("serving", function()
    local server

    setup(function()
      server = assert(mock_server.start{args = {"--idle-timeout", "1"}})
    end)

    teardown(function()
      server:stop()
    end)

    local function connect()
      local sock = server:connect()
      defer(function() sock:close() end)
      return sock
    end

    it("closes a connection whose head drips in past the idle timeout",
       function()
      local sock = connect()
      sock:settimeout(0.3)
      local head = raw("GET", "/api/v3/agents/30")
      local started = socket.gettime()
      local dropped = false
      for i = 1, 20 do  -- one byte every 0.15 s: never idle for 1 s
        local _, err = sock:send(head:sub(i, i))
        local _, rerr = sock:receive(1)
        if err == "closed" or rerr == "closed" then
          dropped = true
          break
        end
        socket.sleep(0.15)
      end
      assert.is_true(dropped, "the dripping client was never dropped")
      assert.is_true(socket.gettime() - started < 2.5)
    end)

    it("keeps an HTTP/1.1 connection open for the next request", function()
      local sock = connect()
      for _ = 1, 3 do
        local response = assert(mock_server.exchange(sock, AGENT))
        assert.equal(200, response.status)
        assert.matches('"id": *30', response.body)
        assert.equal(tostring(#response.body),
                     response.headers["content-length"])
        assert.truthy(response.headers.date)
        assert.is_nil(response.headers.connection)
      end
    end)

    it("closes after answering a request with Connection: close",
       function()
      local sock = connect()
      local response = assert(mock_server.exchange(sock,
        raw("GET", "/api/v3/agents/30", {"Connection: close"})))
      assert.equal(200, response.status)
      assert.equal("close", response.headers.connection)
      assert.is_true(closed(sock))
    end)

    it("closes an HTTP/1.0 connection unless asked to keep it", function()
      local sock = connect()
      local request = "GET /api/v3/agents/30 HTTP/1.0\r\n" ..
        "Kiamo-Api-Token: " .. TOKEN .. "\r\n"
      local response = assert(mock_server.exchange(sock, request ..
        "Connection: keep-alive\r\n\r\n"))
      assert.equal(200, response.status)
      assert.equal("keep-alive", response.headers.connection)
      response = assert(mock_server.exchange(sock, request .. "\r\n"))
      assert.equal(200, response.status)
      assert.equal("close", response.headers.connection)
      assert.is_true(closed(sock))
    end)

    it("closes a connection left idle past the idle timeout", function()
      local sock = connect()
      assert.equal(200, mock_server.exchange(sock, AGENT).status)
      local started = socket.gettime()
      assert.is_true(closed(sock))
      local waited = socket.gettime() - started
      assert.is_true(waited > 0.5 and waited < 3, tostring(waited))
    end)

    it("reads a chunked body with extensions and trailers", function()
      local sock = connect()
      local body, login = agent_body()
      local cut = 10
      local request = table.concat{
        "POST /api/v3/agents HTTP/1.1\r\n",
        "Kiamo-Api-Token: ", TOKEN, "\r\n",
        "Transfer-Encoding: chunked\r\n\r\n",
        string.format("%x;name=value\r\n", cut), body:sub(1, cut), "\r\n",
        string.format("%X\r\n", #body - cut), body:sub(cut + 1), "\r\n",
        "0\r\nX-Checksum: none\r\n\r\n"}
      local response = assert(mock_server.exchange(sock, request))
      assert.equal(201, response.status)
      assert.matches('"login": *"' .. login .. '"', response.body)
      assert.equal(200, mock_server.exchange(sock, AGENT).status)
    end)

    it("answers Expect: 100-continue before the body is sent", function()
      local sock = connect()
      local body, login = agent_body()
      assert(sock:send("POST /api/v3/agents HTTP/1.1\r\n" ..
        "Kiamo-Api-Token: " .. TOKEN .. "\r\nExpect: 100-continue\r\n" ..
        "Content-Length: " .. #body .. "\r\n\r\n"))
      assert.equal("HTTP/1.1 100 Continue", sock:receive("*l"))
      assert.equal("", sock:receive("*l"))
      assert(sock:send(body))
      local response = assert(read_response(sock))
      assert.equal(201, response.status)
      assert.matches('"login": *"' .. login .. '"', response.body)
    end)

    it("refuses a body over 64 MiB with 413 instead of 100 Continue",
       function()
      local sock = connect()
      assert(sock:send("POST /api/v3/agents HTTP/1.1\r\n" ..
        "Expect: 100-continue\r\nContent-Length: " .. (64 * MiB + 1) ..
        "\r\n\r\n"))
      local response = assert(read_response(sock))
      assert.equal(413, response.status)
      assert.equal("close", response.headers.connection)
      assert.is_true(closed(sock))
    end)

    it("refuses a body over 64 MiB with 413 without Expect", function()
      local sock = connect()
      assert(sock:send("PUT /api/v3/agents/30 HTTP/1.1\r\n" ..
        "Content-Length: " .. (64 * MiB + 1) .. "\r\n\r\n" ..
        string.rep("x", 100000)))
      local response = assert(read_response(sock))
      assert.equal(413, response.status)
      assert.is_true(closed(sock))
    end)

    it("refuses a chunked body over 64 MiB with 413", function()
      local sock = connect()
      assert(sock:send("POST /api/v3/agents HTTP/1.1\r\n" ..
        "Transfer-Encoding: chunked\r\n\r\n" ..
        string.format("%x\r\n", 64 * MiB + 1)))
      local response = assert(read_response(sock))
      assert.equal(413, response.status)
      assert.is_true(closed(sock))
    end)

    it("accepts a 64 MiB body and keeps serving others meanwhile",
       function()
      local big, other = connect(), connect()
      assert(big:send("GET /api/v3/agents/30 HTTP/1.1\r\n" ..
        "Kiamo-Api-Token: " .. TOKEN .. "\r\n" ..
        "Content-Length: " .. 64 * MiB .. "\r\n\r\n"))
      local piece = string.rep("y", MiB)
      local slowest = 0
      for i = 1, 64 do
        assert(big:send(piece))
        if i % 16 == 0 then
          local started = socket.gettime()
          assert.equal(200, mock_server.exchange(other, AGENT).status)
          slowest = math.max(slowest, socket.gettime() - started)
        end
      end
      assert.equal(200, assert(read_response(big)).status)
      assert.is_true(slowest < 0.5, tostring(slowest))
    end)

    it("accepts request headers up to 64 KiB", function()
      local sock = connect()
      local response = assert(mock_server.exchange(sock,
        raw("GET", "/api/v3/agents/30",
            {"X-Padding: " .. string.rep("p", 60 * 1024)})))
      assert.equal(200, response.status)
    end)

    it("refuses request headers over 64 KiB with 431 and closes",
       function()
      local sock = connect()
      local response = assert(mock_server.exchange(sock,
        raw("GET", "/api/v3/agents/30",
            {"X-Padding: " .. string.rep("p", 64 * 1024)})))
      assert.equal(431, response.status)
      assert.is_true(closed(sock))
    end)

    local MALFORMED = {
      ["a bad request line"] = "GET /api/v3/agents/30\r\n\r\n",
      ["a request line with two spaces"] =
        "GET  /api/v3/agents/30 HTTP/1.1\r\n\r\n",
      ["a header line without a colon"] =
        "GET /api/v3/agents/30 HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n",
      ["a space before a header's colon"] =
        "GET /api/v3/agents/30 HTTP/1.1\r\nHost : 127.0.0.1\r\n\r\n",
      ["Content-Length with chunked"] =
        "POST /api/v3/agents HTTP/1.1\r\nContent-Length: 3\r\n" ..
        "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      ["conflicting lengths"] =
        "POST /api/v3/agents HTTP/1.1\r\nContent-Length: 3\r\n" ..
        "Content-Length: 4\r\n\r\nabcd",
      ["a non-numeric length"] =
        "POST /api/v3/agents HTTP/1.1\r\nContent-Length: 3a\r\n\r\nabc",
      ["a negative length"] =
        "POST /api/v3/agents HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      ["a bad chunk size"] =
        "POST /api/v3/agents HTTP/1.1\r\nTransfer-Encoding: chunked" ..
        "\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
      ["a chunk not ended by CRLF"] =
        "POST /api/v3/agents HTTP/1.1\r\nTransfer-Encoding: chunked" ..
        "\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
    }
    for case, request in pairs(MALFORMED) do
      it("answers 400 and closes on " .. case, function()
        local sock = connect()
        local response = assert(mock_server.exchange(sock, request))
        assert.equal(400, response.status)
        assert.equal("close", response.headers.connection)
        assert.is_true(closed(sock))
      end)
    end

    it("answers pipelined requests in order", function()
      local sock = connect()
      assert(sock:send(AGENT .. raw("GET", "/api/v3/nowhere") .. AGENT ..
                       raw("GET", "/api/v3/agents/30", nil, "{}")))
      local statuses = {}
      for i = 1, 4 do
        statuses[i] = assert(read_response(sock)).status
      end
      assert.same({200, 404, 200, 200}, statuses)
    end)

    it("passes bodies on GET and DELETE to the application", function()
      local sock = connect()
      local body = '{"periods": [{"startTime": "2030-01-07T08:00:00Z", ' ..
        '"endTime": "2030-01-07T09:00:00Z"}], "activities": [], ' ..
        '"agents": [1]}'
      local response = assert(mock_server.exchange(sock,
        raw("GET", "/api/v3/activities/planning", nil, body)))
      assert.equal(200, response.status)
      assert.matches('"data"', response.body)
      response = assert(mock_server.exchange(sock,
        raw("DELETE", "/api/v3/activities/planning", nil, body)))
      assert.equal(204, response.status)
      response = assert(mock_server.exchange(sock,
        raw("GET", "/api/v3/activities/planning", nil, "{")))
      assert.equal(400, response.status)
      assert.matches("ERR_1000", response.body)
    end)

    it("sends no body bytes after the head of a HEAD response", function()
      local sock = connect()
      assert(sock:send(raw("HEAD", "/api/v3/agents/30") .. AGENT))
      local head = assert(read_response(sock, true))
      assert.truthy(head.headers["content-length"])
      local response = assert(read_response(sock))
      assert.equal(200, response.status)
      assert.matches('"id": *30', response.body)
    end)

    it("serves 64 keep-alive connections at once, each twice", function()
      local socks = {}
      for i = 1, 64 do socks[i] = connect() end
      for _ = 1, 2 do
        for _, sock in ipairs(socks) do assert(sock:send(AGENT)) end
        local answered = 0
        for _, sock in ipairs(socks) do
          if assert(read_response(sock)).status == 200 then
            answered = answered + 1
          end
        end
        assert.equal(64, answered)
      end
    end)
  end)

  it("makes room for a new client when every place is taken by idle ones",
     function()
    local server = assert(mock_server.start{args = {"--max-connections",
                                                    "3"}})
    defer(function() server:stop() end)
    local idle = {}
    for i = 1, 3 do
      idle[i] = server:connect()
      defer(function() idle[i]:close() end)
      idle[i]:send("GET /api/v3/ag")  -- a head that never ends
    end
    socket.sleep(0.2)
    local sock = server:connect()
    defer(function() sock:close() end)
    sock:settimeout(5)
    local response = assert(mock_server.exchange(sock, AGENT))
    assert.equal(200, response.status)
    assert.is_true(closed(idle[1]))
  end)

  describe("with --token", function()
    it("accepts the token for the verbs given, 403 for the others",
       function()
      local extra = string.rep("0123456789", 4)
      local server = assert(mock_server.start{tokens = {extra .. ":GET"}})
      defer(function() server:stop() end)
      local sock = server:connect()
      defer(function() sock:close() end)
      local function send(method, target, token, body)
        local lines = {method .. " " .. target .. " HTTP/1.1",
                       "Kiamo-Api-Token: " .. token}
        if body then lines[#lines + 1] = "Content-Length: " .. #body end
        return assert(mock_server.exchange(sock,
          table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or ""))).status
      end
      assert.equal(200, send("GET", "/api/v3/agents/30", extra))
      assert.equal(403, send("POST", "/api/v3/agents", extra, agent_body()))
      assert.equal(401, send("GET", "/api/v3/agents/30",
                             string.rep("9876543210", 4)))
    end)
  end)

  describe("access lines", function()
    it("shows method, target, status and time, never the token",
       function()
      local server = assert(mock_server.start{quiet = false})
      local sock = server:connect()
      defer(function() sock:close() end)
      assert.equal(200, mock_server.exchange(sock,
        raw("GET", "/api/v3/agents/30?per_page=2")).status)
      assert.equal(404, mock_server.exchange(sock,
        raw("GET", "/api/v3/nowhere?key=" .. TOKEN)).status)
      sock:close()
      assert.equal(0, select(2, server:stop()))
      local lines = {}
      for line in server:stderr():gmatch("[^\n]+") do
        lines[#lines + 1] = line
      end
      assert.equal(2, #lines)
      assert.matches("^GET /api/v3/agents/30%?per_page=2 200 %d+%.%d+ ms$",
                     lines[1])
      assert.matches("^GET /api/v3/nowhere%?key=%S+ 404 %d+%.%d+ ms$",
                     lines[2])
      assert.is_nil(server:stderr():find(TOKEN, 1, true))
    end)

    it("are not written with --quiet", function()
      local server = assert(mock_server.start{quiet = true})
      local sock = server:connect()
      defer(function() sock:close() end)
      assert.equal(200, mock_server.exchange(sock, AGENT).status)
      server:stop()
      assert.equal("", server:stderr())
    end)
  end)

  describe("with --faults", function()
    local function faulty(fault, target)
      return raw("GET", target or "/api/v3/agents/30",
                 {"X-Kiamo-Mock-Fault: " .. fault})
    end

    local function start_faulty(...)
      local server = assert(mock_server.start{args = {"--faults", ...}})
      defer(function() server:stop() end)
      return server
    end

    it("ignores the fault header without --faults", function()
      local server = assert(mock_server.start())
      defer(function() server:stop() end)
      local sock = server:connect()
      defer(function() sock:close() end)
      local response = mock_server.exchange(sock, faulty("status=503"))
      assert.equal(200, response.status)
      response = mock_server.exchange(sock, raw("GET", "/__mock/requests"))
      assert.equal(404, response.status)
    end)

    it("answers status and retry-after without calling the application",
       function()
      local server = start_faulty()
      local sock = server:connect()
      defer(function() sock:close() end)
      local body = agent_body()
      local response = mock_server.exchange(sock, raw("POST",
        "/api/v3/agents", {"X-Kiamo-Mock-Fault: status=429; retry-after=7"},
        body))
      assert.equal(429, response.status)
      assert.equal("7", response.headers["retry-after"])
      assert.matches('^{"info": "[^"]+"}$', response.body)
      response = mock_server.exchange(sock, raw("POST", "/api/v3/agents",
                                                nil, body))
      assert.equal(201, response.status)
    end)

    it("answers 400 naming a directive it cannot read", function()
      local server = start_faulty()
      local sock = server:connect()
      defer(function() sock:close() end)
      local response = mock_server.exchange(sock, faulty("delay=soon"))
      assert.equal(400, response.status)
      assert.equal('{"info": "fault directive \'delay\' needs a number ' ..
        'of seconds from 0 to 600, got \'soon\'"}', response.body)
    end)

    it("holds a delayed answer without holding the others", function()
      local server = start_faulty()
      local slow = server:connect()
      defer(function() slow:close() end)
      local started = socket.gettime()
      assert(slow:send(faulty("delay=1")))
      local quick = server:connect()
      defer(function() quick:close() end)
      assert.equal(200, mock_server.exchange(quick, AGENT).status)
      assert.is_true(socket.gettime() - started < 0.5)
      assert.equal(200, read_response(slow).status)
      local seconds = socket.gettime() - started
      assert.is_true(seconds >= 1 and seconds < 1.5)
    end)

    it("closes without a byte on close", function()
      local server = start_faulty()
      local sock = server:connect()
      defer(function() sock:close() end)
      assert(sock:send(faulty("close")))
      local data, err, partial = sock:receive("*a")
      assert.equal("", data or partial)
      assert.is_true(data == "" or err == "closed")
    end)

    it("announces the whole length and sends half on truncate", function()
      local server = start_faulty()
      local sock = server:connect()
      defer(function() sock:close() end)
      assert(sock:send(faulty("truncate")))
      local data, _, partial = sock:receive("*a")
      data = data or partial
      local head, body = data:match("^(.-\r\n\r\n)(.*)$")
      local length = tonumber(head:match("Content%-Length: (%d+)"))
      assert.is_true(length > 100)
      assert.equal(length // 2, #body)
    end)

    it("drips a slow answer over about two seconds", function()
      local server = start_faulty()
      local sock = server:connect()
      defer(function() sock:close() end)
      local started = socket.gettime()
      local response = mock_server.exchange(sock, faulty("slow"))
      local seconds = socket.gettime() - started
      assert.equal(200, response.status)
      assert.matches('"id":30', response.body)
      assert.is_true(seconds >= 1.9 and seconds < 2.5)
    end)

    it("answers gzip that gzip -d reads, only when accepted", function()
      local server = start_faulty()
      local sock = server:connect()
      defer(function() sock:close() end)
      local plain = mock_server.exchange(sock, AGENT)
      local response = mock_server.exchange(sock, raw("GET",
        "/api/v3/agents/30", {"X-Kiamo-Mock-Fault: gzip",
                              "Accept-Encoding: br, gzip;q=0.5"}))
      assert.equal("gzip", response.headers["content-encoding"])
      local path = temp_file(response.body)
      defer(function() os.remove(path) end)
      local pipe = assert(io.popen("gzip -dc < " .. path))
      local decoded = pipe:read("a")
      assert.is_true(pipe:close())
      assert.equal(plain.body, decoded)
      response = mock_server.exchange(sock, raw("GET", "/api/v3/agents/30",
        {"X-Kiamo-Mock-Fault: gzip", "Accept-Encoding: gzip;q=0"}))
      assert.is_nil(response.headers["content-encoding"])
      assert.equal(plain.body, response.body)
    end)

    it("writes header names in lower case, twice, on header-case",
       function()
      local server = start_faulty()
      local sock = server:connect()
      defer(function() sock:close() end)
      local response = mock_server.exchange(sock, faulty("header-case"))
      assert.equal(200, response.status)
      local _, repeated = response.head:gsub(
        "\r\ncontent%-type: application/json", "")
      assert.equal(2, repeated)
      assert.is_nil(response.head:find("\r\n%u"))
    end)

    it("counts requests and faults the first N with --fault-first",
       function()
      local server = start_faulty("--fault-all", "status=502",
                                  "--fault-first", "2")
      local sock = server:connect()
      defer(function() sock:close() end)
      local statuses = {}
      for i = 1, 3 do
        statuses[i] = mock_server.exchange(sock, AGENT).status
      end
      statuses[4] = mock_server.exchange(sock, faulty("status=504")).status
      statuses[5] = mock_server.exchange(sock, faulty("none")).status
      assert.same({502, 502, 200, 504, 200}, statuses)
      local response = mock_server.exchange(sock,
        raw("GET", "/__mock/requests"))
      assert.equal('{"requests": 5}', response.body)
    end)

    it("refuses --fault-all it cannot read, status 2", function()
      local code, _, stderr = mock_server.run{args = {"--fault-all",
                                                      "status=5xx"}}
      assert.equal(2, code)
      assert.matches("fault directive 'status' needs", stderr)
    end)
  end)

  describe("with --state", function()
    it("keeps an acknowledged change across kill -9", function()
      local state = temp_file()
      defer(function() os.remove(state) end)
      local server = assert(mock_server.start{state = state})
      local sock = server:connect()
      local body, login = agent_body()
      local response = assert(mock_server.exchange(sock,
        raw("POST", "/api/v3/agents", nil, body)))
      assert.equal(201, response.status)
      local id = assert(response.body:match('"id": *(%d+)'))
      server:kill("KILL")
      assert.same({"signal", 9}, {server:wait()})
      sock:close()
      server = assert(mock_server.start{state = state})
      defer(function() server:stop() end)
      sock = server:connect()
      defer(function() sock:close() end)
      response = assert(mock_server.exchange(sock,
        raw("GET", "/api/v3/agents/" .. id)))
      assert.equal(200, response.status)
      assert.matches('"login": *"' .. login .. '"', response.body)
    end)
  end)
end)

-- Specs for kiamo sessions: options, s:request, s:host, results, every
-- error kind and on_event, against kiamo-mock and small loopback servers.

local kiamo = require "kiamo"

-- math.type where there is one; LuaJIT has no integer type, and there an
-- integral number counts as an integer.
local math_type = require("kiamo.compat").math_type
local mock_server = require "support.mock_server"
local loopback = require "support.loopback"
local shell = require "support.shell"

local TOKEN = "0123456789abcdef0123456789abcdef01234567"
local GET_ONLY = "89abcdef0123456789abcdef0123456789abcdef"

local function raises(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok)
  err = tostring(err)
  assert.truthy(err:find(pattern, 1, true),
    "expected an error containing " .. pattern .. ", got " .. err)
  return err
end

local quote = shell.quote


describe("kiamo", function()
  it("exposes the JSON markers, the error class and a version", function()
    assert.equal(require("kiamo.core").null, kiamo.null)
    assert.equal("kiamo.array", getmetatable(kiamo.array{}).__name)
    assert.equal("kiamo.object", getmetatable(kiamo.object{}).__name)
    assert.equal("kiamo.Error", kiamo.Error.__name)
    assert.truthy(kiamo._VERSION:match("^kiamo %d+%.%d+%.%d+$"))
    assert.same({startTime = "2026-12-07T09:00:00Z",
                 endTime = "2026-12-07T09:15:00Z"},
                kiamo.period("2026-12-07T09:00Z", "2026-12-07T09:15Z"))
    assert.equal(5, #kiamo.schedule{from = "2026-12-07", to = "2026-12-13",
      days = {1, 2, 3, 4, 5}, slots = {{"09:00", "17:00"}}})
  end)
end)

describe("kiamo.session", function()
  it("refuses a token that is not 40 hex characters, without showing it",
    function()
      for _, token in ipairs{"0123456789abcdef", TOKEN .. "0",
                             TOKEN:sub(1, 39) .. "g"} do
        local err = raises("token must be 40 hexadecimal characters",
          kiamo.session, {url = "http://127.0.0.1:1", token = token})
        assert.is_nil(err:find(token, 1, true))
      end
    end)

  it("refuses unknown options and wrong option types", function()
    raises('unknown option "timout"', kiamo.session,
      {url = "http://127.0.0.1:1", token = TOKEN, timout = 3})
    raises("on_event must be a function, got string", kiamo.session,
      {url = "http://127.0.0.1:1", token = TOKEN, on_event = "print"})
    raises('cursor_param "a b" is not a query parameter name',
      kiamo.session, {url = "http://127.0.0.1:1", token = TOKEN,
                      cursor_param = "a b"})
    raises("kiamo.session", kiamo.session, {url = "ftp://127.0.0.1/",
      token = TOKEN})
  end)

  it("reads KIAMO_URL and KIAMO_API_TOKEN when url and token are not given",
    function()
      local server = assert(mock_server.start{tokens = {TOKEN}})
      finally(function() server:stop() end)
      local script = [[
        local kiamo = require "kiamo"
        local s = kiamo.session()
        local a = assert(s:agent(1))
        io.write(tostring(s), " ", a.login)
      ]]
      local pipe = io.popen(string.format(
        "KIAMO_URL=%s KIAMO_API_TOKEN=%s LUA_PATH='lua/?.lua;lua/?/init.lua'"
        .. " LUA_CPATH='build/lua5.4/?.so' lua5.4 -e %s 2>&1",
        server.url, TOKEN, quote(script)))
      local out = pipe:read("a")
      pipe:close()
      assert.equal("kiamo.Session (" .. server.url .. "/api/v3) "
        .. "hugo.lindqvast", out)
      local bad = io.popen("KIAMO_URL= KIAMO_API_TOKEN=nothex "
        .. "LUA_PATH='lua/?.lua;lua/?/init.lua' "
        .. "LUA_CPATH='build/lua5.4/?.so' lua5.4 -e "
        .. quote([[print(pcall(require("kiamo").session,
                     {url = "http://127.0.0.1:1"}))]]) .. " 2>&1")
      out = bad:read("a")
      bad:close()
      assert.truthy(out:find("token must be 40 hexadecimal", 1, true))
      assert.is_nil(out:find("nothex", 1, true))
    end)

  it("raises on any method once closed, and closing twice is harmless",
    function()
      local s = kiamo.session{url = "http://127.0.0.1:1", token = TOKEN}
      s:close()
      s:close()
      assert.equal("kiamo.Session (closed)", tostring(s))
      raises("session is closed", s.agent, s, 1)
      raises("session is closed", s.request, s, "GET", "/agents/1")
      raises("session is closed", s.each_planning, s, {periods = {
        {"2026-12-07T09:00Z", "2026-12-07T10:00Z"}}, agents = {1}})
    end)
end)

describe("kiamo.Session against kiamo-mock", function()
  local server, s, events
  setup(function()
    server = assert(mock_server.start{tokens = {TOKEN, GET_ONLY .. ":GET"}})
  end)
  teardown(function() server:stop() end)
  before_each(function()
    events = {}
    s = kiamo.session{url = server.url, token = TOKEN,
      on_event = function(e) events[#events + 1] = e end}
  end)
  after_each(function() s:close() end)

  describe("request", function()
    it("returns the decoded value of a 200", function()
      local value = assert(s:request("GET", "/agents/1"))
      assert.equal(1, value.id)
      assert.equal("integer", math_type(value.group.id))
    end)

    it("returns true for a DELETE answered without a body", function()
      local agent = assert(s:request("POST", "/agents", {body = {
        last_name = "Doe", login = "request.delete", group = 1}}))
      assert.is_true(s:request("delete", "/agents/" .. agent.id))
      local value, err = s:request("GET", "/agents/" .. agent.id)
      assert.is_nil(value)
      assert.equal(404, err.status)
    end)

    it("returns nil and an http error with code and info", function()
      local value, err = s:request("POST", "/activities/planning",
        {body = {activities = {2}, agents = {1}}})
      assert.is_nil(value)
      assert.equal(kiamo.Error, getmetatable(err))
      assert.equal("http", err.kind)
      assert.equal(400, err.status)
      assert.equal("ERR_1010", err.code)
      assert.equal("Json attributes are missing: periods", err.info)
      assert.equal("POST", err.method)
      assert.equal(server.url .. "/api/v3/activities/planning", err.url)
      assert.truthy(err.body:find("ERR_1010", 1, true))
      assert.equal("kiamo: 400 ERR_1010 Json attributes are missing: "
        .. "periods (POST /api/v3/activities/planning)", tostring(err))
    end)

    it("reads 401, 403 and 404 errors that may lack a code", function()
      local ro = kiamo.session{url = server.url, token = GET_ONLY}
      local _, forbidden = ro:request("DELETE", "/agents/1")
      assert.equal(403, forbidden.status)
      assert.equal("Wrong access rights", forbidden.info)
      local stranger = kiamo.session{url = server.url,
                                     token = string.rep("f", 40)}
      local _, unauthorized = stranger:request("GET", "/agents/1")
      assert.equal(401, unauthorized.status)
      assert.equal("The authentication token is not valid",
        unauthorized.info)
      assert.is_nil(tostring(unauthorized):find(string.rep("f", 40), 1, true))
      local _, missing = s:request("GET", "/agents/999999")
      assert.equal(404, missing.status)
      assert.equal("The agent does not exist", missing.info)
    end)

    it("sends the query and the headers it is given", function()
      local echo = loopback.start("echo")
      finally(function() echo:stop() end)
      local es = kiamo.session{url = echo.url, token = TOKEN}
      local seen = assert(es:request("GET", "/x", {query = {b = "2 3",
        a = 1}, headers = {["X-Trace"] = "t1"}}))
      assert.equal("/api/v3/x", seen.path)
      assert.equal("a=1&b=2%203", seen.query)
      assert.equal("t1", seen.headers["x-trace"])
      assert.equal(TOKEN, seen.headers["kiamo-api-token"])
    end)

    it("raises on misuse, naming the argument", function()
      raises("method must be an HTTP verb", s.request, s, 42, "/x")
      raises("path must be a string starting with \"/\"", s.request, s,
        "GET", "agents/1")
      raises("path must be a string starting with \"/\"", s.request, s,
        "GET", "/agents/1?x=1")
      raises("options must be a table", s.request, s, "GET", "/x", "q")
      raises('unknown option "bdy"', s.request, s, "GET", "/x", {bdy = {}})
      raises("json: f:", s.request, s, "POST", "/x", {body = {f = print}})
    end)
  end)

  describe("host", function()
    it("returns the load-balancing answer", function()
      local host = assert(s:host("kiwi"))
      assert.equal("success", host.result)
      assert.equal(3015, host.ports.http)
      assert.equal("integer", math_type(host.frontal_server.id))
    end)

    it("escapes the app name so it stays one path segment", function()
      local value, err = s:host("../agents/1")
      assert.is_nil(value)
      assert.equal(404, err.status)
      assert.equal(server.url .. "/api/v3/load-balancing/..%2Fagents%2F1",
        err.url)
    end)

    it("answers an unknown app with an http error", function()
      local _, err = s:host("nope")
      assert.equal(404, err.status)
      assert.equal("ERR_1020", err.code)
      raises("app must be a non-empty string", s.host, s, "")
    end)
  end)

  describe("on_event", function()
    it("reports each request without the token", function()
      assert(s:agent(1))
      s:agent(999999)
      assert.equal(2, #events)
      local e = events[1]
      assert.equal("GET", e.method)
      assert.equal(server.url .. "/api/v3/agents/1", e.url)
      assert.equal(200, e.status)
      assert.equal(1, e.attempt)
      assert.is_true(e.seconds >= 0 and e.seconds < 5)
      assert.is_nil(e.error)
      assert.equal(404, events[2].error.status)
      for _, event in ipairs(events) do
        for k, v in pairs(event) do
          assert.is_nil(tostring(v):find(TOKEN, 1, true), k)
          assert.is_nil(tostring(k):find(TOKEN, 1, true))
        end
      end
    end)

    it("propagates an error it raises after the request is over",
      function()
        local calls = 0
        local bad = kiamo.session{url = server.url, token = TOKEN,
          on_event = function()
            calls = calls + 1
            if calls == 1 then error("hook failed", 0) end
          end}
        raises("hook failed", bad.create_agent, bad, {last_name = "Hook",
          login = "hook.1", group = 1})
        -- the request went through, and the session still works
        local _, err = bad:create_agent{last_name = "Hook",
          login = "hook.1", group = 1}
        assert.equal("Arguments are invalid: login: already used", err.info)
        assert.equal(2, calls)
      end)
  end)
end)

describe("kiamo.Session:run", function()
  it("runs the methods of several tasks together", function()
    local server = assert(mock_server.start{tokens = {TOKEN}})
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN}
    local results = s:run(function() return s:agent(1) end,
                          function() return s:host("kiwi") end,
                          function() return s:agent(999999) end)
    assert.equal(1, results[1][1].id)
    assert.equal("success", results[2][1].result)
    assert.is_nil(results[3][1])
    assert.equal(404, results[3][2].status)
  end)

  it("waits for slow requests side by side, not one after another",
    function()
      local server = loopback.start("hang")
      finally(function() server:stop() end)
      local s = kiamo.session{url = server.url, token = TOKEN,
                              timeout = 0.5, retries = 0}
      local core = require "kiamo.core"
      local started = core.now()
      local tasks = {}
      for i = 1, 4 do tasks[i] = function() return s:agent(i) end end
      local results = s:run(tasks)
      local elapsed = core.now() - started
      for i = 1, 4 do assert.equal("timeout", results[i][2].kind) end
      assert.is_true(elapsed < 1.5, "took " .. elapsed .. " s")
    end)
end)

describe("kiamo.Session failures", function()
  it("returns a connect error for a closed loopback port", function()
    local url = "http://127.0.0.1:" .. loopback.closed_port()
    local s = kiamo.session{url = url, token = TOKEN}
    local value, err = s:agent(30)
    assert.is_nil(value)
    assert.equal("connect", err.kind)
    assert.is_nil(err.status)
    assert.equal(url .. "/api/v3/agents/30", err.url)
    assert.truthy(tostring(err):match(
      "^kiamo: connect: .+ %(GET /api/v3/agents/30%)$"))
  end)

  it("returns a timeout error when the server never answers", function()
    local server = loopback.start("hang")
    finally(function() server:stop() end)
    local events = {}
    local s = kiamo.session{url = server.url, token = TOKEN,
      timeout = 0.3, retries = 0,
      on_event = function(e) events[#events + 1] = e end}
    local value, err = s:agent(30)
    assert.is_nil(value)
    assert.equal("timeout", err.kind)
    assert.truthy(tostring(err):match(
      "^kiamo: timeout: .+ %(GET /api/v3/agents/30%)$"))
    assert.equal(err, events[1].error)
    assert.is_true(events[1].seconds >= 0.25)
  end)

  it("returns a tls error when https meets plain HTTP", function()
    local server = loopback.start("blurt",
      "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    finally(function() server:stop() end)
    local s = kiamo.session{url = "https://127.0.0.1:" .. server.port,
                            token = TOKEN, timeout = 5}
    local value, err = s:host("kiwi")
    assert.is_nil(value)
    assert.equal("tls", err.kind)
  end)

  it("returns a decode error for a 2xx body that is not JSON", function()
    local server = loopback.start("fixed", loopback.response(200,
      {["Content-Type"] = "text/html"}, "<html>hello</html>"))
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN}
    local value, err = s:host("kiwi")
    assert.is_nil(value)
    assert.equal("decode", err.kind)
    assert.equal(200, err.status)
    assert.equal("<html>hello</html>", err.body)
    assert.truthy(tostring(err):match(
      "^kiamo: decode: 200 json: .+ %(GET /api/v3/load%-balancing/kiwi%)$"))
    local agent, bad = s:agent(3)
    assert.is_nil(agent)
    assert.equal("decode", bad.kind)
  end)

  it("reads an HTTP error whose body is not JSON", function()
    local server = loopback.start("fixed", loopback.response(502, {},
      "Bad Gateway"))
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN}
    local _, err = s:host("kiwi")
    assert.equal("http", err.kind)
    assert.equal(502, err.status)
    assert.is_nil(err.code)
    assert.equal("Bad Gateway", err.body)
    assert.equal("kiamo: 502 (GET /api/v3/load-balancing/kiwi)",
      tostring(err))
  end)

  it("returns a transport error when the answer passes max_body",
    function()
      local server = loopback.start("fixed", loopback.response(200, {},
        string.rep("[1]", 100)))
      finally(function() server:stop() end)
      local s = kiamo.session{url = server.url, token = TOKEN,
                              max_body = 64}
      local value, err = s:host("kiwi")
      assert.is_nil(value)
      assert.equal("transport", err.kind)
      assert.truthy(tostring(err):find("max_body", 1, true))
    end)

  it("returns the error of a Lua transport", function()
    local s = kiamo.session{url = "http://127.0.0.1:1", token = TOKEN,
      transport = function() return nil, "transport", "cable cut" end}
    local _, err = s:agent(1)
    assert.equal("transport", err.kind)
    assert.equal("kiamo: transport: cable cut (GET /api/v3/agents/1)",
      tostring(err))
    local t = kiamo.session{url = "http://127.0.0.1:1", token = TOKEN,
      transport = function() return "200" end}
    raises("transport must return an integer HTTP status", t.agent, t, 1)
  end)
end)

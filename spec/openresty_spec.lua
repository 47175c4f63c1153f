-- The example OpenResty site (examples/openresty) on Debian's nginx with
-- libnginx-mod-http-lua, each nginx in a prefix of its own with one
-- worker, in front of kiamo-mock: the site's answers, and a worker that
-- keeps serving while Kiamo is slow (kiamo.openresty's transport; a
-- second kiamo-mock holds each answer with --fault-all delay=...).
-- Seeds and checks the emulator's planning over raw HTTP, not through
-- the module under test.

local socket = require "socket"
local http = require "socket.http"
local ltn12 = require "ltn12"
local cjson = require "cjson"
local mock_server = require "support.mock_server"
local helpers = require "support.shell"

local ROOT = mock_server.ROOT
local TOKEN = "68d27ac06e53fef962c49a4b0d18691019c3a31a"  -- fixture, all
local SLOW = 1.0  -- seconds each answer of the slow Kiamo is late
-- the kiamo Lua modules nginx loads (examples/openresty/run's KIAMO_LUA)
local LUA_DIR = os.getenv("KIAMO_LUA") or ROOT .. "/lua"
local DAY = 86400

local quote = helpers.quote
local read_file = helpers.read_file
local free_port = helpers.free_port


-- Runs a shell command; returns its exit code and its output.
local function shell(command)
  local pipe = assert(io.popen("(" .. command .. ") 2>&1; echo \"exit $?\""))
  local output = pipe:read("*a")
  pipe:close()
  return tonumber(output:match("exit (%d+)\n$")),
    (output:gsub("exit %d+\n$", ""))
end

-- One HTTP exchange; returns status, body, headers.
local function request(method, url, body, headers)
  local chunks = {}
  local _, status, response_headers = http.request{
    method = method, url = url, headers = headers,
    source = body and ltn12.source.string(body),
    sink = ltn12.sink.table(chunks), redirect = false,
  }
  return status, table.concat(chunks), response_headers
end

-- A call to the emulator itself (JSON both ways).
local function api(server, method, path, value)
  local body = value and cjson.encode(value)
  local status, text = request(method, server.url .. "/api/v3" .. path,
    body, {["Kiamo-Api-Token"] = TOKEN, ["Content-Type"] = "application/json",
           ["Content-Length"] = body and tostring(#body)})
  return status, text ~= "" and cjson.decode(text) or nil
end

-- Starts the example site with examples/openresty/run in a new prefix,
-- in front of the Kiamo server at upstream_port. Returns the site
-- {url =, prefix =}; raises if it does not answer within 10 s.
local function start_site(upstream_port)
  local _, prefix = shell("mktemp -d")
  prefix = prefix:match("^(%S+)")
  local port = free_port()
  local code = shell(string.format(
    "cd %s && KIAMO_UPSTREAM=127.0.0.1:%d SITE_LISTEN=127.0.0.1:%d "
    .. "KIAMO_URL=http://127.0.0.1:%d KIAMO_API_TOKEN=%s KIAMO_LUA=%s "
    .. "examples/openresty/run %s >%s/run.out 2>&1 &",
    quote(ROOT), upstream_port, port, upstream_port, TOKEN, quote(LUA_DIR),
    quote(prefix), quote(prefix)))
  assert(code == 0)
  local site = {url = "http://127.0.0.1:" .. port, prefix = prefix}
  local deadline = socket.gettime() + 10
  while socket.gettime() < deadline do
    local client = socket.connect("127.0.0.1", port)
    if client then
      client:close()
      return site
    end
    socket.sleep(0.05)
  end
  error("the site did not start:\n" ..
    (read_file(prefix .. "/run.out") or "") ..
    (read_file(prefix .. "/logs/error.log") or ""))
end

-- Stops nginx (graceful, then forced) and removes the prefix.
local function stop_site(site)
  local pid = (read_file(site.prefix .. "/logs/nginx.pid") or "")
    :match("%d+")
  if pid then
    shell("kill -QUIT " .. pid)
    for _ = 1, 100 do
      if shell("kill -0 " .. pid) ~= 0 then break end
      socket.sleep(0.05)
    end
    shell("kill -KILL " .. pid .. " 2>/dev/null")
  end
  shell("rm -rf " .. quote(site.prefix))
end

local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

describe("examples/openresty", function()
  local server, slow_server, site, slow_site, lost_site
  local team, agent_name, day

  setup(function()
    local code, output = shell("cd " .. quote(ROOT) .. " && make -s luajit")
    assert(code == 0, "make luajit failed:\n" .. output)
    code, output = shell(string.format("cd %s && luajit -e %s", quote(ROOT),
      quote(string.format("package.path = '%s/?.lua;%s/?/init.lua;' .. "
        .. "package.path; package.cpath = 'build/luajit/?.so;' .. "
        .. "package.cpath; require 'kiamo'; require 'kiamo.openresty'",
        LUA_DIR, LUA_DIR))))
    assert(code == 0, "kiamo does not load under LuaJIT:\n" .. output)
    server = assert(mock_server.start{})
    slow_server = assert(mock_server.start{
      args = {"--fault-all", "delay=" .. SLOW}})
    site = start_site(server.port)
    slow_site = start_site(slow_server.port)
    lost_site = start_site(free_port())  -- nothing listens there
    local status, agent = api(server, "GET", "/agents/1")
    assert(status == 200)
    team = math.floor(agent.team.id)
    agent_name = agent.first_name .. " " .. agent.last_name
    day = os.time() - os.time() % DAY
    for _, plan in ipairs{{9, 12, 2}, {13, 17, 3}} do
      assert(api(server, "POST", "/activities/planning", {
        periods = {{startTime = iso(day + plan[1] * 3600),
                    endTime = iso(day + plan[2] * 3600)}},
        activities = {plan[3]}, agents = {1}}) == 200)
    end
  end)

  teardown(function()
    if lost_site then stop_site(lost_site) end
    if slow_site then stop_site(slow_site) end
    if site then stop_site(site) end
    if slow_server then slow_server:stop() end
    if server then server:stop() end
  end)

  it("shows the team's planning for today as JSON", function()
    local status, body, headers = request("GET",
      site.url .. "/planning.json?team=" .. team)
    assert.equal(200, status, body)
    assert.equal("application/json", headers["content-type"])
    local page = cjson.decode(body)
    assert.equal(team, page.team)
    assert.same({startTime = iso(day), endTime = iso(day + DAY)},
                page.period)
    assert.same({
      {agent = 1, activity = 2, startTime = iso(day + 9 * 3600),
       endTime = iso(day + 12 * 3600)},
      {agent = 1, activity = 3, startTime = iso(day + 13 * 3600),
       endTime = iso(day + 17 * 3600)},
    }, page.entries)
  end)

  it("shows it as an HTML page, with remove buttons for a supervisor",
     function()
    local status, body, headers = request("GET",
      site.url .. "/planning?team=" .. team)
    assert.equal(200, status, body)
    assert.equal("text/html; charset=utf-8", headers["content-type"])
    local _, rows = body:gsub("<tr><td>", "")
    assert.equal(2, rows, body)
    assert.truthy(body:find("<td>09:00</td><td>12:00</td><td>" ..
      agent_name .. "</td><td>2</td>", 1, true), body)
    assert.is_nil(body:find("<form", 1, true))
    status, body = request("GET",
      site.url .. "/planning?supervisor=1&team=" .. team)
    assert.equal(200, status)
    local _, forms = body:gsub('<form method="post"', "")
    assert.equal(2, forms)
  end)

  it("refuses a page without a team", function()
    assert.equal(400, (request("GET", site.url .. "/planning.json")))
  end)

  it("lets a supervisor remove an entry, which DELETE removes in Kiamo",
     function()
    local form = string.format(
      "team=%d&agent=1&activity=2&start=%s&end=%s", team,
      iso(day + 9 * 3600), iso(day + 12 * 3600))
    local status, body, headers = request("POST",
      site.url .. "/planning/remove", form,
      {["Content-Type"] = "application/x-www-form-urlencoded",
       ["Content-Length"] = tostring(#form)})
    assert.equal(303, status, body)
    assert.equal("/planning?supervisor=1&team=" .. team,
                 headers.location:match("^https?://[^/]+(.*)$")
                   or headers.location)
    local api_status, left = api(server, "GET", "/activities/planning", {
      periods = {{startTime = iso(day), endTime = iso(day + DAY)}},
      activities = {2, 3}, agents = {1}})
    assert.equal(200, api_status)
    assert.equal(1, #left.data)
    assert.equal(3, left.data[1].activity)
  end)

  it("reports a Kiamo server it cannot reach as a connect failure",
     function()
    local status, body = request("GET",
      lost_site.url .. "/planning.json?team=" .. team)
    assert.equal(502, status)
    assert.matches("connect", cjson.decode(body).error, 1, true)
  end)

  it("keeps its one worker serving while Kiamo answers a second late",
     function()
    local function send(path)
      local client = assert(socket.connect("127.0.0.1",
        tonumber(slow_site.url:match(":(%d+)$"))))
      client:settimeout(10)
      assert(client:send("GET " .. path .. " HTTP/1.1\r\nHost: site\r\n"
        .. "Connection: close\r\n\r\n"))
      return client
    end
    local function answer(client)
      local text = client:receive("*a")
      client:close()
      return text and text:match("^HTTP/1%.1 (%d+)")
    end
    local started = socket.gettime()
    local first = send("/planning.json?team=" .. team)
    local second = send("/planning.json?team=" .. team)
    socket.sleep(0.1)  -- both are now waiting for Kiamo
    local health_started = socket.gettime()
    local health = send("/health")
    assert.equal("200", answer(health))
    local health_seconds = socket.gettime() - health_started
    assert.equal("200", answer(first))
    assert.equal("200", answer(second))
    local both_seconds = socket.gettime() - started
    assert.is_true(health_seconds < 0.3 * SLOW,
                   "health took " .. health_seconds .. " s")
    -- the calls were slow, and the two ran together, not one by one
    assert.is_true(both_seconds >= SLOW, "both took " .. both_seconds)
    assert.is_true(both_seconds < 1.7 * SLOW, "both took " .. both_seconds)
  end)
end)

-- bench/mock.lua: how fast kiamo-mock answers, over real HTTP.
--
--   lua5.4 bench/mock.lua [REQUESTS]    (after `make`, from anywhere)
--
-- 1. GET /api/v3/agents/30 REQUESTS times (default 20000) over one
--    keep-alive connection from one client, one request at a time.
-- 2. The same with 64 clients on 64 keep-alive connections.
-- 3. POST a planning of 2,000 agents x 5 activities x 5 periods (50,000
--    entries) against a fixture of 2,000 agents.

local ROOT = (arg[0]:match("^(.*)/bench/[^/]*$") or ".")
package.path = ROOT .. "/spec/?.lua;" .. ROOT .. "/lua/?.lua;" ..
  ROOT .. "/lua/?/init.lua;" .. package.path

local socket = require "socket"
local cjson = require "cjson"
local mock_server = require "support.mock_server"

local TOKEN = "68d27ac06e53fef962c49a4b0d18691019c3a31a"
local SIZES = {requests = tonumber(arg[1]) or 20000, clients = 64,
               agents = 2000, activities = 5, periods = 5}

local GET_AGENT = "GET /api/v3/agents/30 HTTP/1.1\r\nHost: 127.0.0.1\r\n" ..
  "Kiamo-Api-Token: " .. TOKEN .. "\r\n\r\n"


local function check(response, status, what)
  if not response or response.status ~= status then
    error(string.format("%s: expected %d, got %s", what, status,
                        response and response.status or "no response"))
  end
end


local function one_client(server, requests)
  local sock = server:connect()
  for _ = 1, 500 do
    check(mock_server.exchange(sock, GET_AGENT), 200, "warm-up")
  end
  local started = socket.gettime()
  for _ = 1, requests do
    check(mock_server.exchange(sock, GET_AGENT), 200, "GET agent")
  end
  local elapsed = socket.gettime() - started
  sock:close()
  return requests / elapsed, elapsed
end


-- Each round, every client sends one request, then all responses are
-- read: 64 requests in flight on 64 connections.
local function many_clients(server, requests)
  local socks = {}
  for i = 1, SIZES.clients do socks[i] = server:connect() end
  local rounds = math.max(1, requests // SIZES.clients)
  local started = socket.gettime()
  for _ = 1, rounds do
    for _, sock in ipairs(socks) do assert(sock:send(GET_AGENT)) end
    for _, sock in ipairs(socks) do
      check(mock_server.read_response(sock), 200, "GET agent")
    end
  end
  local elapsed = socket.gettime() - started
  for _, sock in ipairs(socks) do sock:close() end
  return rounds * SIZES.clients / elapsed
end


-- The default fixture grown to SIZES.agents agents, in a temporary file.
local function big_fixture()
  local file = assert(io.open(ROOT .. "/lua/kiamo/mock/fixture.json"))
  local fixture = cjson.decode(file:read("a"))
  file:close()
  local last = 0
  for _, agent in ipairs(fixture.agents) do
    last = math.max(last, math.tointeger(agent.id))
  end
  local model = fixture.agents[1]
  for id = last + 1, SIZES.agents do
    fixture.agents[#fixture.agents + 1] = {
      id = id, first_name = "Bench", last_name = "Agent " .. id,
      login = "bench." .. id, email = "bench." .. id .. "@example.com",
      group = model.group, team = model.team, language = model.language,
      timezone_type = "group"}
  end
  local path = os.tmpname()
  file = assert(io.open(path, "w"))
  file:write(cjson.encode(fixture))
  file:close()
  return path, fixture
end


local function planning_body(fixture)
  local periods, activities, agents = {}, {}, {}
  for i = 1, SIZES.periods do
    periods[i] = string.format(
      '{"startTime": "2030-01-07T%02d:00:00Z", "endTime": ' ..
      '"2030-01-07T%02d:45:00Z"}', 7 + i, 7 + i)
  end
  for i = 1, SIZES.activities do
    activities[i] = math.tointeger(fixture.activities[i].id)
  end
  for i = 1, SIZES.agents do
    agents[i] = math.tointeger(fixture.agents[i].id)
  end
  return string.format('{"periods": [%s], "activities": [%s], ' ..
                       '"agents": [%s]}', table.concat(periods, ", "),
                       table.concat(activities, ", "),
                       table.concat(agents, ", "))
end


local function post_planning()
  local path, fixture = big_fixture()
  local server = assert(mock_server.start{fixture = path})
  local body = planning_body(fixture)
  local sock = server:connect()
  sock:settimeout(60)
  local started = socket.gettime()
  local response = mock_server.exchange(sock, table.concat{
    "POST /api/v3/activities/planning HTTP/1.1\r\nHost: 127.0.0.1\r\n",
    "Kiamo-Api-Token: ", TOKEN, "\r\nContent-Type: application/json\r\n",
    "Content-Length: ", #body, "\r\n\r\n", body})
  local elapsed = socket.gettime() - started
  check(response, 200, "POST planning")
  local _, entries = response.body:gsub('"period"', "")
  sock:close()
  server:stop()
  os.remove(path)
  return elapsed, entries, #response.body
end


local function main()
  local server = assert(mock_server.start())
  local rate, elapsed = one_client(server, SIZES.requests)
  print(string.format("GET /api/v3/agents/30, 1 client, keep-alive: " ..
                      "%.0f requests/s (%d in %.2f s)", rate,
                      SIZES.requests, elapsed))
  print(string.format("GET /api/v3/agents/30, %d clients, keep-alive: " ..
                      "%.0f requests/s", SIZES.clients,
                      many_clients(server, SIZES.requests)))
  server:stop()
  local seconds, entries, bytes = post_planning()
  print(string.format("POST planning %d agents x %d activities x %d " ..
                      "periods: %.2f s (%d entries, %d bytes answered)",
                      SIZES.agents, SIZES.activities, SIZES.periods,
                      seconds, entries, bytes))
end


main()

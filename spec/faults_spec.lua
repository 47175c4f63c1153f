-- The client (kiamo) against kiamo-mock misbehaving on purpose: every
-- fault kind against every kind of endpoint, asserting the result, the
-- number of attempts the emulator saw (its GET /__mock/requests) and the
-- time the call took.

local kiamo = require "kiamo"
local compat = require "kiamo.compat"  -- LuaJIT lacks tointeger, pack
local socket = require "socket"
local mock_server = require "support.mock_server"

local TOKEN = "0123456789abcdef0123456789abcdef01234567"
local FAULT_HEADER = "X-Kiamo-Mock-Fault"
local NO_FAULT = {[FAULT_HEADER] = "none"}

local TIMES = {
  timeout = 0.5,       -- the sessions' timeout, seconds
  margin = 0.35,       -- allowed beyond the expected time, per attempt
  backoff_min = 0.375, -- two retries' backoff at least (defaults)
  backoff_max = 0.75,  -- and at most
}

local PERIODS = {
  {startTime = "2031-03-03T09:00:00Z", endTime = "2031-03-03T10:00:00Z"},
  {startTime = "2031-03-03T11:00:00Z", endTime = "2031-03-03T12:00:00Z"},
}
local WINDOW = {{"2031-03-03T08:00:00Z", "2031-03-03T13:00:00Z"}}


-- Clean-ups run after each test (busted's finally keeps only one).
local deferred = {}
local function defer(clean_up)
  deferred[#deferred + 1] = clean_up
end


-- Starts kiamo-mock with --faults and the extra arguments.
local function start(...)
  local args = {"--faults", ...}
  local server = assert(mock_server.start{tokens = {TOKEN}, args = args,
                                          quiet = false})
  defer(function() server:stop() end)
  return server
end


-- The number of requests the emulator has received.
local function requests(server)
  local sock = server:connect()
  local response = assert(mock_server.exchange(sock,
    "GET /__mock/requests HTTP/1.1\r\nHost: 127.0.0.1\r\n" ..
    "Connection: close\r\n\r\n"))
  sock:close()
  assert.equal(200, response.status)
  return compat.tointeger(tonumber(response.body:match('"requests": (%d+)')))
end


-- A context for one test: the server, a session whose events are kept
-- (s), and another one for setting up and checking (setup), so that the
-- call under test starts on a new connection.
local function context(server, options)
  local ctx = {server = server, events = {},
               setup = kiamo.session{url = server.url, token = TOKEN}}
  defer(function() ctx.setup:close() end)
  local settings = {url = server.url, token = TOKEN,
                    timeout = TIMES.timeout,
                    on_event = function(e)
                      ctx.events[#ctx.events + 1] = e
                    end}
  for name, value in pairs(options or {}) do settings[name] = value end
  ctx.s = kiamo.session(settings)
  defer(function() ctx.s:close() end)
  return ctx
end


-- A request that the emulator answers without fault.
local function plain(ctx, method, path, body)
  return ctx.setup:request(method, path, {body = body, headers = NO_FAULT})
end


local function plan(ctx, activity, agent)
  assert(plain(ctx, "POST", "/activities/planning",
               {periods = PERIODS, activities = {activity},
                agents = {agent}}))
end


-- The entries planned in WINDOW for activity and agent.
local function planned(ctx, activity, agent)
  local page = assert(plain(ctx, "GET", "/activities/planning",
    {periods = {{startTime = WINDOW[1][1], endTime = WINDOW[1][2]}},
     activities = {activity}, agents = {agent}}))
  return #page.data
end


local function new_login()
  return string.format("fault%d%d", os.time(), math.random(1e9))
end


-- Whether a login is taken: creating it again is refused.
local function login_taken(ctx, login)
  local value, err = plain(ctx, "POST", "/agents",
                           {last_name = "Probe", login = login, group = 1})
  if value then return false end
  assert.equal(400, err.status)
  assert.equal("Arguments are invalid: login: already used", err.info)
  return true
end


-- The kinds of endpoint. call returns value or nil, err; check looks at
-- the value of a success; changed tells, afterwards, whether the change
-- was made; requests is how many requests a call makes without faults.
local ENDPOINTS = {
  {name = "read (agent)", idempotent = true, requests = 1,
   call = function(ctx) return ctx.s:agent(30) end,
   check = function(_, agent) assert.equal(30, agent.id) end},
  {name = "create (create_agent)", idempotent = false, requests = 1,
   prepare = function(ctx) ctx.login = new_login() end,
   call = function(ctx)
     return ctx.s:create_agent{last_name = "Fault", login = ctx.login,
                               group = 1}
   end,
   check = function(ctx, agent) assert.equal(ctx.login, agent.login) end,
   changed = function(ctx) return login_taken(ctx, ctx.login) end},
  {name = "create (create_planning)", idempotent = false, requests = 1,
   call = function(ctx)
     return ctx.s:create_planning{periods = PERIODS, activities = {3},
                                  agents = {2}}
   end,
   check = function(_, entries) assert.equal(2, #entries) end,
   changed = function(ctx) return planned(ctx, 3, 2) > 0 end},
  {name = "update (update_agent)", idempotent = false, requests = 1,
   call = function(ctx)
     return ctx.s:update_agent(30, {first_name = "Changed"})
   end,
   check = function(_, agent) assert.equal("Changed", agent.first_name) end,
   changed = function(ctx)
     return assert(plain(ctx, "GET", "/agents/30")).first_name == "Changed"
   end},
  {name = "delete (delete_agent)", idempotent = true, requests = 1,
   gone_on_retry = true,  -- once applied, the next attempt meets a 404
   prepare = function(ctx)
     ctx.id = assert(plain(ctx, "POST", "/agents",
       {last_name = "Doomed", login = new_login(), group = 1})).id
   end,
   call = function(ctx) return ctx.s:delete_agent(ctx.id) end,
   check = function(_, value) assert.is_true(value) end,
   changed = function(ctx)
     local _, err = plain(ctx, "GET", "/agents/" .. ctx.id)
     return err ~= nil and err.status == 404
   end},
  {name = "delete (delete_planning)", idempotent = true, requests = 1,
   prepare = function(ctx) plan(ctx, 2, 2) end,
   call = function(ctx)
     return ctx.s:delete_planning{periods = WINDOW, activities = {2},
                                  agents = {2}}
   end,
   check = function(_, value) assert.is_true(value) end,
   changed = function(ctx) return planned(ctx, 2, 2) == 0 end},
  {name = "paged read (get_planning)", idempotent = true, requests = 1,
   prepare = function(ctx) plan(ctx, 2, 1) end,
   call = function(ctx)
     return ctx.s:get_planning{periods = WINDOW, activities = {2},
                               agents = {1}, per_page = 1}
   end,
   check = function(_, page)
     assert.equal(1, #page.data)
     assert.is_string(page.cursor.next)
   end},
  {name = "paged read (each_planning)", idempotent = true, requests = 2,
   prepare = function(ctx) plan(ctx, 2, 1) end,
   call = function(ctx)
     local entries = {}
     local ok, err = pcall(function()
       for entry in ctx.s:each_planning{periods = WINDOW, activities = {2},
                                        agents = {1}, per_page = 1} do
         entries[#entries + 1] = entry
       end
     end)
     if not ok then return nil, err end
     return entries
   end,
   check = function(_, entries)
     assert.equal(2, #entries)
     assert.equal("2031-03-03T11:00:00Z", entries[2].period.startTime)
   end},
}


-- The fault kinds, with what the client must make of them. outcome is
-- "ok" or the error kind; retried says whether an idempotent request is
-- tried again; runs whether the application runs (the change is made);
-- attempt_time what each attempt costs at least; wait the Retry-After.
local FAULT_KINDS = {
  {directives = "delay=0.2", outcome = "ok", runs = true,
   attempt_time = 0.2},
  {directives = "delay=1", outcome = "timeout", retried = true,
   runs = true, attempt_time = TIMES.timeout},
  {directives = "status=503; retry-after=1", outcome = "http",
   status = 503, retried = true, runs = false, wait = 1},
  {directives = "status=429", outcome = "http", status = 429,
   retried = true, runs = false},
  {directives = "status=500", outcome = "http", status = 500,
   retried = false, runs = false},
  {directives = "close", outcome = "transport", retried = true,
   runs = false},
  {directives = "truncate", outcome = "transport", retried = true,
   runs = true},
  {directives = "garbage", outcome = "decode", status = 200,
   retried = false, runs = false},
  {directives = "slow", outcome = "ok", runs = true, attempt_time = 1.9,
   session = {timeout = 5}},
  {directives = "gzip", outcome = "ok", runs = true},
  {directives = "header-case", outcome = "ok", runs = true},
}


-- Runs f and returns the seconds it took and what it returned.
local function timed(f, ...)
  local started = socket.gettime()
  local results = compat.pack(f(...))
  return socket.gettime() - started, compat.unpack(results, 1, results.n)
end


-- The attempts a call makes under a fault on every request, and the
-- bounds of the time it takes.
local function expectation(endpoint, fault)
  if fault.outcome == "ok" then
    local least = (fault.attempt_time or 0) * endpoint.requests
    return endpoint.requests, least,
           least + TIMES.margin * endpoint.requests
  end
  local attempts = (fault.retried and endpoint.idempotent) and 3 or 1
  local least, most = 0, 0
  if attempts > 1 then
    if fault.wait then
      least, most = fault.wait * 2, fault.wait * 2
    else
      least, most = TIMES.backoff_min, TIMES.backoff_max
    end
  end
  local each = fault.attempt_time or 0
  return attempts, least + attempts * each,
         most + attempts * (each + TIMES.margin)
end


describe("kiamo against kiamo-mock --faults", function()
  after_each(function()
    for i = #deferred, 1, -1 do
      pcall(deferred[i])
      deferred[i] = nil
    end
  end)

  teardown(function()
    mock_server.stop_all()
  end)

  for _, fault in ipairs(FAULT_KINDS) do
    describe("with every request under '" .. fault.directives .. "'",
             function()
      local server  -- one for the endpoints below, each on its own data
      setup(function()
        server = assert(mock_server.start{tokens = {TOKEN},
          args = {"--faults", "--fault-all", fault.directives}})
      end)
      teardown(function() server:stop() end)

      for _, endpoint in ipairs(ENDPOINTS) do
        local attempts, least, most = expectation(endpoint, fault)
        local name = string.format("%s: %s after %d attempt%s",
          endpoint.name, fault.outcome == "ok" and "succeeds" or
            "fails with " .. fault.outcome .. (fault.status and " " ..
            fault.status or ""), attempts, attempts > 1 and "s" or "")
        it(name, function()
          local ctx = context(server, fault.session)
          if endpoint.prepare then endpoint.prepare(ctx) end
          local before = requests(server)
          ctx.events = {}
          local seconds, value, err = timed(endpoint.call, ctx)
          assert.equal(attempts, requests(server) - before)
          assert.equal(attempts, #ctx.events)
          if fault.outcome == "ok" then
            assert.is_nil(err)
            endpoint.check(ctx, value)
          else
            assert.is_nil(value)
            assert.equal(fault.outcome, err.kind)
            assert.equal(fault.status, err.status)
          end
          -- timers may fire a few milliseconds early
          assert.is_true(seconds >= least * 0.95 and seconds <= most,
            string.format("took %.2f s, expected %.2f to %.2f s", seconds,
                          least, most))
          if endpoint.changed then
            assert.equal(fault.runs, endpoint.changed(ctx))
          end
        end)
      end
    end)
  end

  describe("with only the first request under a fault", function()
    for _, fault in ipairs{{directives = "status=503", runs = false},
                           {directives = "close", runs = false},
                           {directives = "delay=1", runs = true}} do
      local directives = fault.directives
      for _, endpoint in ipairs(ENDPOINTS) do
        local gone = fault.runs and endpoint.gone_on_retry
        local expected = endpoint.idempotent and
          "succeeds on the second attempt" or "fails after one attempt"
        if gone then
          expected = "counts a 404 on the second attempt as deleted"
        end
        it(string.format("'%s': %s %s", directives, endpoint.name,
                         expected), function()
          local server = start("--fault-all", directives, "--fault-first",
                               "1")
          local ctx = context(server)
          if endpoint.prepare then endpoint.prepare(ctx) end
          local before = requests(server)
          ctx.events = {}
          local value, err = endpoint.call(ctx)
          local made = requests(server) - before
          if gone then
            assert.is_nil(err)
            assert.is_true(value)
            assert.equal(404, ctx.events[2].status)
            assert.equal(2, made)
            assert.equal(2, #ctx.events)
          elseif endpoint.idempotent then
            assert.is_nil(err)
            endpoint.check(ctx, value)
            assert.equal(endpoint.requests + 1, made)
            assert.is_table(ctx.events[1].error)
            assert.is_number(ctx.events[1].retry_in)
            assert.equal(2, ctx.events[2].attempt)
          else
            assert.is_nil(value)
            assert.is_table(err)
            assert.equal(1, made)
            assert.equal(1, #ctx.events)
            assert.is_nil(ctx.events[1].retry_in)
          end
        end)
      end
    end
  end)

  describe("a POST", function()
    it("under 503 is sent once and creates nothing", function()
      local server = start("--fault-all", "status=503; retry-after=1",
                           "--fault-first", "1")
      local ctx = context(server)
      local login = new_login()
      local seconds, agent, err = timed(ctx.s.create_agent, ctx.s,
        {last_name = "Once", login = login, group = 1})
      assert.is_nil(agent)
      assert.equal(503, err.status)
      assert.is_true(seconds < 0.5)
      assert.equal(1, requests(server))
      assert.is_false(login_taken(ctx, login))
      assert.is_true(login_taken(ctx, login))
    end)

    it("under close on a kept-alive connection is sent once", function()
      local server = start()
      local ctx = context(server)
      assert(ctx.s:agent(30))
      local before = requests(server)
      local value, err = ctx.s:request("POST", "/activities/planning", {
        body = {periods = PERIODS, activities = {3}, agents = {1}},
        headers = {[FAULT_HEADER] = "close"}})
      assert.is_nil(value)
      assert.equal("transport", err.kind)
      assert.equal(1, requests(server) - before,
        "the emulator saw the POST more than once")
      assert.equal(0, planned(ctx, 3, 1))
    end)

    it("under truncate is sent once and created once", function()
      local server = start("--fault-all", "truncate", "--fault-first", "1")
      local ctx = context(server)
      local login = new_login()
      local agent, err = ctx.s:create_agent{last_name = "Once",
                                            login = login, group = 1}
      assert.is_nil(agent)
      assert.equal("transport", err.kind)
      assert.equal(1, requests(server))
      assert.is_true(login_taken(ctx, login))
    end)
  end)

  describe("a GET on a kept-alive connection", function()
    it("under close shows each attempt in on_event, plus libcurl's one " ..
       "reconnect of the reused connection", function()
      local server = start()
      local ctx = context(server)
      assert(ctx.s:agent(30))
      ctx.events = {}
      local before = requests(server)
      local value, err = ctx.s:request("GET", "/agents/30",
        {headers = {[FAULT_HEADER] = "close"}})
      assert.is_nil(value)
      assert.equal("transport", err.kind)
      assert.equal(3, #ctx.events)
      assert.equal(#ctx.events + 1, requests(server) - before)
    end)
  end)

  describe("a kept-alive connection closed by the server when idle",
           function()
    it("costs no failed call, read or create", function()
      local server = assert(mock_server.start{tokens = {TOKEN},
        args = {"--faults", "--idle-timeout", "0.2"}})
      defer(function() server:stop() end)
      local ctx = context(server)
      assert(ctx.s:agent(30))
      socket.sleep(0.5)
      assert(ctx.s:agent(30))
      socket.sleep(0.5)
      assert(ctx.s:create_agent{last_name = "Idle", login = new_login(),
                                group = 1})
      assert.equal(3, #ctx.events)
      for _, event in ipairs(ctx.events) do
        assert.equal(1, event.attempt)
        assert.is_nil(event.error)
      end
      assert.equal(3, requests(server))
    end)
  end)

  describe("answers written oddly", function()
    it("decodes a gzip-encoded answer the emulator did encode", function()
      local server = start("--fault-all", "gzip")
      local ctx = context(server)
      local agent = assert(ctx.s:agent(30))
      assert.equal("Smith", agent.last_name)
      server:stop()
      assert.matches("GET /api/v3/agents/30 200 %S+ ms fault: gzip\n",
                     server:stderr())
      assert.is_nil(server:stderr():find("not accepted", 1, true))
    end)

    it("honours a Retry-After written in lower case and twice", function()
      local server = start("--fault-all",
        "status=503; retry-after=1; header-case", "--fault-first", "1")
      local ctx = context(server)
      local seconds, agent = timed(ctx.s.agent, ctx.s, 30)
      assert.equal(30, agent.id)
      assert.equal(1, ctx.events[1].retry_in)
      assert.is_true(seconds >= 1 and seconds < 1 + TIMES.margin,
                     string.format("took %.2f s", seconds))
    end)

  end)

  describe("a body above max_body", function()
    it("is a transport error naming max_body, not retried", function()
      local server = start()
      local ctx = context(server, {max_body = 100})
      local agent, err = ctx.s:agent(30)
      assert.is_nil(agent)
      assert.equal("transport", err.kind)
      assert.matches("max_body", tostring(err))
      assert.equal(1, requests(server))
    end)
  end)

  describe("the fault header", function()
    it("is ignored without --faults", function()
      local server = assert(mock_server.start{tokens = {TOKEN}})
      defer(function() server:stop() end)
      local ctx = context(server)
      local agent = assert(ctx.s:request("GET", "/agents/30",
        {headers = {[FAULT_HEADER] = "status=503"}}))
      assert.equal(30, agent.id)
      assert.equal(1, #ctx.events)
    end)

    it("answers 400 naming a directive it cannot read", function()
      local server = start()
      local ctx = context(server)
      local value, err = ctx.s:request("GET", "/agents/30",
        {headers = {[FAULT_HEADER] = "status=503; sometimes"}})
      assert.is_nil(value)
      assert.equal(400, err.status)
      assert.equal("unknown fault directive 'sometimes'", err.info)
    end)
  end)
end)

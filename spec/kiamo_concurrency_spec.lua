-- Requests in flight together: s:run, s:spawn and s:poll.

local kiamo = require "kiamo"
local core = require "kiamo.core"
local loopback = require "support.loopback"
local mock_server = require "support.mock_server"

local TOKEN = "68d27ac06e53fef962c49a4b0d18691019c3a31a"

local function get(s, i)
  return function() return s:request("GET", "/agents/" .. i) end
end

describe("kiamo.Session:run", function()
  it("returns each function's results in order", function()
    local server = loopback.start("delay", "0.05")
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN}
    local fs = {}
    for i = 1, 12 do fs[i] = get(s, 13 - i) end
    local results = s:run(fs)
    assert.equal(12, results.n)
    for i = 1, 12 do
      assert.equal("/api/v3/agents/" .. (13 - i), results[i][1].path)
    end
  end)

  it("keeps at most `concurrency` requests in flight at the server",
     function()
    local server = loopback.start("delay", "0.1")
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN}
    local fs = {}
    for i = 1, 20 do fs[i] = get(s, i) end
    local results = s:run(fs, {concurrency = 4})
    for i = 1, 20 do assert.is_table(results[i][1]) end
    local max, total = server:inflight()
    assert.equal(4, max)
    assert.equal(20, total)
  end)

  it("reuses connections between the requests it runs", function()
    local server = loopback.start("delay", "0.01")
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN}
    local fs = {}
    for i = 1, 30 do fs[i] = get(s, i) end
    s:run(fs, {concurrency = 3})
    assert.equal(3, server:open_connections(3))
  end)

  it("fails only the result of a function that raises", function()
    local server = assert(mock_server.start{tokens = {TOKEN}})
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN}
    local results = s:run(function() return s:agent(30) end,
                          function() error("boom") end,
                          function() return s:agent(999999) end)
    assert.equal(30, results[1][1].id)
    assert.is_nil(results[2][1])
    assert.matches("boom", results[2][2])
    assert.is_nil(results[3][1])
    assert.equal(404, results[3][2].status)
  end)

  it("runs each_planning inside tasks across pages", function()
    local server = assert(mock_server.start{tokens = {TOKEN}})
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN}
    local periods = {kiamo.period("2031-03-03T08:00:00Z",
                                  "2031-03-03T12:00:00Z")}
    assert(s:create_planning{periods = periods, activities = {2, 3},
                             agents = {1, 4, 30}})
    local function count()
      local n = 0
      for _ in s:each_planning{periods = periods, activities = {},
                               agents = {1, 4, 30}, per_page = 2} do
        n = n + 1
      end
      return n
    end
    local results = s:run(count, count, {concurrency = 2})
    assert.equal(6, results[1][1])
    assert.equal(6, results[2][1])
  end)

  it("leaves plain calls outside run blocking as before", function()
    local server = loopback.start("delay", "0.05")
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN}
    local value = s:request("GET", "/agents/7")
    assert.equal("/api/v3/agents/7", value.path)
    assert.equal(0, s:pending())
  end)

  it("cancels the requests in flight when a task closes the session",
     function()
    local server = loopback.start("delay", "2")
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN, retries = 0}
    local results = s:run(get(s, 1), get(s, 2), function()
      s:close()
      return "closed"
    end)
    assert.equal("closed", results[3][1])
    for i = 1, 2 do
      assert.is_nil(results[i][1])
      assert.equal("transport", results[i][2].kind)
      assert.matches("session was closed", results[i][2].message)
    end
  end)

  it("refuses arguments that are not functions", function()
    local s = kiamo.session{url = "http://127.0.0.1:9", token = TOKEN}
    assert.has_error(function() s:run(get(s, 1), 42) end,
      "kiamo: run: argument 2 must be a function, not a number")
    assert.has_error(function() s:run(get(s, 1), {concurrency = 0}) end,
      "kiamo: run: concurrency must be a positive integer")
  end)
end)

describe("kiamo.Session:spawn and poll", function()
  it("finishes tasks across polls and gives their results", function()
    local server = loopback.start("delay", "0.05")
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN}
    local t = s:spawn(function(i) return s:request("GET", "/agents/" .. i)
    end, 5)
    assert.is_false(t:done())
    assert.has_error(function() t:result() end,
      "kiamo: task has not finished (check t:done() first)")
    local polls = 0
    while not t:done() and polls < 1000 do
      s:poll(0.01)
      polls = polls + 1
    end
    assert.is_true(t:done())
    assert.equal("/api/v3/agents/5", t:result().path)
    assert.is_true(polls > 1)
  end)

  it("never waits longer than max_seconds", function()
    local server = loopback.start("delay", "1")
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN}
    local t = s:spawn(get(s, 1))
    for _, max in ipairs{0, 0.05, 0.1} do
      local started = core.now()
      assert.equal(1, s:poll(max))
      assert.is_true(core.now() - started < max + 0.25)
    end
    assert.is_false(t:done())
  end)

  it("ends tasks with an error when the session closes under them",
     function()
    local server = loopback.start("delay", "2")
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN, retries = 0}
    local t1, t2 = s:spawn(get(s, 1)), s:spawn(get(s, 2))
    s:poll(0.05)
    s:close()
    assert.equal(0, s:poll(0))
    for _, t in ipairs{t1, t2} do
      local value, err = t:result()
      assert.is_nil(value)
      assert.equal("transport", err.kind)
    end
  end)
end)

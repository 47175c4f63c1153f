-- Lifetimes of the core's userdata: nothing crashes whatever the order in
-- which scripts close, drop and collect sessions, requests and tasks.

local kiamo = require "kiamo"
local core = require "kiamo.core"
local loopback = require "support.loopback"

local TOKEN = "0123456789abcdef0123456789abcdef01234567"

local function collect()
  collectgarbage("collect")
  collectgarbage("collect")
end

describe("kiamo.Session lifetime", function()
  local server
  setup(function() server = loopback.start("delay", "0.2") end)
  teardown(function() server:stop() end)

  it("works after the coroutine that made it has died", function()
    local co = coroutine.create(function()
      return kiamo.session{url = server.url, token = TOKEN}
    end)
    local _, s = assert(coroutine.resume(co))
    assert.equal("dead", coroutine.status(co))
    co = nil -- luacheck: ignore 311
    collect()
    assert.equal("/api/v3/agents/1", s:request("GET", "/agents/1").path)
    s:close()
  end)

  it("can be closed, then collected, then closed again", function()
    local s = kiamo.session{url = server.url, token = TOKEN}
    s:close()
    local gc = getmetatable(s).__gc
    gc(s)
    gc(s)
    getmetatable(s).__close(s)
    s:close()
    assert.is_true(s:closed())
    assert.equal("kiamo.Session (closed)", tostring(s))
    assert.has_error(function() s:request("GET", "/x") end,
                     "kiamo: session is closed")
  end)

  it("is collected in the middle of work without a crash", function()
    do
      local s = kiamo.session{url = server.url, token = TOKEN}
      for i = 1, 6 do s:spawn(function() return s:agent(i) end) end
      s:poll(0.02)
      assert.is_true(s:pending() > 0)
    end
    collect()
    assert.equal(0, server:open_connections(0))
  end)

  it("keeps a request usable after its session is closed", function()
    local s = kiamo.session{url = server.url, token = TOKEN}
    local req = s:prepare("GET", "/agents/1")
    s:start(req)
    s:close()
    local ok, kind, message = req:outcome()
    assert.is_nil(ok)
    assert.equal("transport", kind)
    assert.matches("session was closed", message)
    assert.equal(0, req:status())
    local ready = kiamo.session{url = server.url, token = TOKEN}
    local unsent = ready:prepare("GET", "/agents/2")
    ready:close()
    assert.has_error(function() unsent:status() end,
                     "kiamo: request has not completed")
    collect()
  end)

  it("refuses a request from another session or performed twice",
     function()
    local a = kiamo.session{url = server.url, token = TOKEN}
    local b = kiamo.session{url = server.url, token = TOKEN}
    local req = a:prepare("GET", "/agents/1")
    assert.has_error(function() b:perform(req) end,
                     "kiamo: request belongs to another session")
    assert(a:perform(req))
    assert.has_error(function() a:perform(req) end,
                     "kiamo: request was already performed")
    a:close()
    b:close()
  end)

  it("raises, never crashes, on wrong userdata or argument types",
     function()
    local s = kiamo.session{url = server.url, token = TOKEN}
    local Session = core.Session
    for _, call in ipairs{
      function() Session.prepare(nil, "GET", "/x") end,
      function() Session.prepare(io.stdout, "GET", "/x") end,
      function() Session.perform(s, "not a request") end,
      function() Session.perform(s, s) end,
      function() Session.wait(s, "soon") end,
      function() s:prepare("GET", "/x", "query") end,
      function() s:prepare("GET", "/x", {[1] = "a"}) end,
      function() s:prepare("GET", "/x", nil, nil, {["Bad Name"] = "1"}) end,
      function() s:prepare("GET\r\n", "/x") end,
      function() s:prepare("GET", "/x\r\nHost: evil") end,
      function() s:prepare("GET", "/x", nil, {f = print}) end,
    } do
      assert.has_error(call)
    end
    s:close()
  end)
end)

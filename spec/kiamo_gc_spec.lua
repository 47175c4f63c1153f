-- Specs for the release of sessions dropped without close(): the
-- userdata is collected (weak tables) and its connections are closed, as
-- a loopback server that counts its open connections sees.

local kiamo = require "kiamo"
local loopback = require "support.loopback"

local TOKEN = "0123456789abcdef0123456789abcdef01234567"

local function collect()
  collectgarbage("collect")
  collectgarbage("collect")
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

describe("kiamo sessions dropped without close()", function()
  local server
  setup(function() server = loopback.start("echo") end)
  teardown(function() server:stop() end)

  it("are collected, hooks that refer to them included", function()
    local weak = setmetatable({}, {__mode = "v"})
    do
      local strong = {}  -- a collection may run while they are made
      for i = 1, 20 do
        local s
        s = kiamo.session{url = server.url, token = TOKEN,
          on_event = function() return s end}
        weak[i], strong[i] = s, s
      end
      assert.equal(20, #strong)
      assert.equal(20, count(weak))
    end
    collect()
    assert.equal(0, count(weak))
  end)

  it("close their connections when collected", function()
    assert.equal(0, server:open_connections(0))
    local kept = kiamo.session{url = server.url, token = TOKEN}
    assert(kept:request("GET", "/a"))
    do
      local dropped = {}
      for i = 1, 3 do
        dropped[i] = kiamo.session{url = server.url, token = TOKEN}
        assert(dropped[i]:request("GET", "/b"))
      end
      assert.equal(4, server:open_connections(4))
    end
    collect()
    assert.equal(1, server:open_connections(1))
    -- the kept session still works on its own connection
    assert(kept:request("GET", "/c"))
    assert.equal(1, server:open_connections(1))
    kept:close()
    assert.equal(0, server:open_connections(0))
  end)

  it("stay alive while one of their objects is reachable", function()
    local weak = setmetatable({}, {__mode = "v"})
    local s = kiamo.session{url = "http://127.0.0.1:1", token = TOKEN,
      transport = function()
        return 200, {}, '{"id": 5, "last_name": "K", "login": "k", '
          .. '"group": {"id": 1, "label": "G"}}'
      end}
    weak[1] = s
    local agent = assert(s:agent(5))
    s = nil  -- luacheck: ignore 311
    collect()
    assert.equal(1, count(weak))
    assert.equal(agent, assert(agent:reload()))
    agent = nil  -- luacheck: ignore 311
    collect()
    assert.equal(0, count(weak))
  end)

  it("leave nothing behind after many requests", function()
    collect()
    local before = collectgarbage("count")
    for _ = 1, 200 do
      local s = kiamo.session{url = server.url, token = TOKEN}
      assert(s:request("POST", "/d", {body = {agents = {1, 2, 3}}}))
    end
    collect()
    assert.equal(0, server:open_connections(0))
    assert.is_true(collectgarbage("count") - before < 256)
  end)
end)

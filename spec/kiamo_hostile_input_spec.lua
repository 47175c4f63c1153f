-- Input meant to break the client, from scripts and from servers: each
-- case once crashed, hung, lost data or misled, and must not again.

local kiamo = require "kiamo"
local core = require "kiamo.core"
local loopback = require "support.loopback"

local TOKEN = "0123456789abcdef0123456789abcdef01234567"
local P1 = kiamo.period("2031-01-06T09:00:00Z", "2031-01-06T10:00:00Z")
local P3 = kiamo.period("2031-01-08T09:00:00Z", "2031-01-08T10:00:00Z")

-- Run f while a finalizer empties t at every collection step.
local function with_emptying_finalizer(t, f)
  local function arm()
    setmetatable({}, {__gc = function()
      for k in next, t do t[k] = nil end
    end})
  end
  arm()
  local pause = collectgarbage("setpause", 1)
  local ok, err = pcall(f)
  collectgarbage("setpause", pause)
  collectgarbage()
  return ok, err
end

describe("the core under hostile scripts", function()
  it("encodes an object that a finalizer empties meanwhile", function()
    local t = core.object{}
    for i = 1, 3000 do t[("k"):rep(300) .. i] = i end
    local ok, json = with_emptying_finalizer(t, function()
      return core.encode(t)
    end)
    assert.is_true(ok)
    assert.is_string(json)
    assert.is_table(core.decode(json))
  end)

  it("builds a query that a finalizer empties meanwhile", function()
    local s = core.session{url = "http://127.0.0.1:9", token = TOKEN}
    local q = {}
    for i = 1, 2000 do q[("q"):rep(200) .. i] = i end
    local ok, err = with_emptying_finalizer(q, function()
      return s:prepare("GET", "/x", q)
    end)
    -- emptied values are refused cleanly; nothing freed is read
    if not ok then
      assert.matches("^kiamo: query value q+%d+ must be a string", err)
    end
    s:close()
  end)

  it("reads session options raw, never through metamethods", function()
    local opts = setmetatable({token = TOKEN}, {__index = function()
      return "http://127.0.0.1:9"
    end})
    assert.has_error(function() core.session(opts) end,
                     "kiamo.session: url is missing")
  end)

  it("refuses what kiamo.array cannot hold instead of dropping it",
     function()
    assert.has_error(function() core.encode(kiamo.array{1, x = 5}) end,
      "json: value: array has a key that is not an index")
    local t = kiamo.array{}
    t[1], t[3] = 1, 3
    assert.equal("[1,null,3]", core.encode(t))
    assert.equal("[1,null,null]", core.encode(kiamo.array{1, n = 3}))
    assert.has_error(function() core.encode(kiamo.array{[2^40] = 1}) end)
  end)

  it("refuses query numbers it cannot write exactly", function()
    local s = core.session{url = "http://127.0.0.1:9", token = TOKEN}
    for _, v in ipairs{1e300, 0 / 0, 1.5, -math.huge} do
      assert.has_error(function() s:prepare("GET", "/x", {a = v}) end,
                       "kiamo: query value a must be an integer")
    end
    s:close()
  end)

  it("refuses urls, paths and versions a resolver would rewrite",
     function()
    for _, url in ipairs{"http://user:secret@127.0.0.1:9",
                         "http://127.0.0.1:9\\@other", "http://h\xc3\xa9"} do
      assert.has_error(function()
        core.session{url = url, token = TOKEN}
      end)
    end
    assert.has_error(function()
      core.session{url = "http://127.0.0.1:9", token = TOKEN,
                   version = ".."}
    end, "kiamo.session: version must not be '.' or '..'")
    local s = core.session{url = "http://127.0.0.1:9", token = TOKEN}
    for _, path in ipairs{"/agents/../agents/30", "/./x", "/a/..", "/.."} do
      assert.has_error(function() s:prepare("GET", path) end,
                       "kiamo: path must not contain '.' or '..' segments")
    end
    assert.not_has_error(function() s:prepare("GET", "/a/.b/..c") end)
    s:close()
  end)

  it("refuses headers that would add a token or change framing",
     function()
    local s = core.session{url = "http://127.0.0.1:9", token = TOKEN}
    for _, name in ipairs{"kiamo-api-token", "Content-Length", "Host",
                          "Transfer-Encoding"} do
      assert.has_error(function()
        s:prepare("GET", "/x", nil, nil, {[name] = "1"})
      end, "kiamo: header " .. name .. " is set by the library")
    end
    assert.has_error(function()
      s:prepare("GET", "/x", nil, nil, {Accept = ""})
    end, "kiamo: header Accept: value is empty")
    s:close()
  end)
end)

describe("the client under hostile scripts", function()
  local s
  before_each(function()
    s = kiamo.session{url = "http://127.0.0.1:9", token = TOKEN}
  end)
  after_each(function() s:close() end)

  it("refuses periods with a hole rather than plan part of them",
     function()
    assert.has_error(function()
      s:create_planning{periods = {P1, nil, P3}, activities = {2},
                        agents = {1}}
    end, "kiamo: create_planning: periods[2] must be a period table, got "
      .. "nil")
    assert.has_error(function()
      s:create_planning{periods = {P1, extra = P3}, activities = {2},
                        agents = {1}}
    end)
  end)

  it("takes an object's id only as a number or plain digits", function()
    for _, bad in ipairs{"0x1e", " 3e1 ", "30.0", ""} do
      assert.has_error(function() s:agent{id = bad} end)
    end
  end)

  it("refuses a poll budget that is not a number of seconds", function()
    assert.has_error(function() s:poll(0 / 0) end,
                     "kiamo: poll: max_seconds must be a number >= 0")
    assert.has_error(function() s:poll(-1) end)
  end)
end)

describe("the client against hostile servers", function()
  local function serve(body)
    return loopback.start("fixed", loopback.response(200,
      {["Content-Type"] = "application/json"}, body))
  end

  it("refuses a planning answer whose data is not an array", function()
    local server = serve('{"data": {"a": 1}, "meta": {}}')
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN}
    local page, err = s:get_planning{periods = P1, team = 1}
    assert.is_nil(page)
    assert.equal("decode", err.kind)
    assert.matches("has no data array", err.message)
  end)

  it("raises a decode error when a cursor's next is not an id", function()
    local server = serve('{"data": [], "meta": {"cursor": ' ..
      '{"current": "a", "prev": null, "next": 1.5, "count": 0}}}')
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN}
    local ok, err = pcall(function()
      for _ in s:each_planning{periods = P1, team = 1} do end
    end)
    assert.is_false(ok)
    assert.equal(kiamo.Error, getmetatable(err))
    assert.equal("decode", err.kind)
  end)

  it("keeps terminal escapes a server wrote out of the error line",
     function()
    local err = kiamo.Error.new{kind = "http", status = 400,
      info = "bad\r\nInjected\27[31mRED", method = "GET",
      url = "http://h/api/v3/x"}
    assert.equal("kiamo: 400 bad Injected [31mRED (GET /api/v3/x)",
                 tostring(err))
  end)

  it("times out even with a timeout under a millisecond", function()
    local server = loopback.start("hang")
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN,
                            timeout = 0.0004, retries = 0}
    local started = core.now()
    local value, err = s:agent(1)
    assert.is_nil(value)
    assert.equal("timeout", err.kind)
    assert.is_true(core.now() - started < 2)
  end)

  it("waits for a long poll without spinning the CPU", function()
    local server = loopback.start("delay", "0.6")
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN}
    local t = s:spawn(function() return s:agent(1) end)
    local cpu = os.clock()
    while not t:done() do s:poll(1e300) end
    assert.is_true(os.clock() - cpu < 0.3, "CPU spent while waiting")
  end)
end)

-- Specs for the JSON rules as the public module applies them: exact
-- 64-bit integers both ways, empty arrays on the wire, null, bodies on GET
-- and DELETE, checked on the bytes a loopback server receives and on the
-- requests a Lua transport is handed.

local kiamo = require "kiamo"
local cjson = require "cjson"
local loopback = require "support.loopback"

local TOKEN = "0123456789abcdef0123456789abcdef01234567"
-- 2^53 + 1: a double would make it ...992. Without an integer type
-- (LuaJIT) kiamo.integer boxes it, and it decodes as a string of digits.
local BIG = kiamo.integer("9007199254740993")
local BIG_READ = math.type and BIG or "9007199254740993"
local PERIOD = {"2026-12-07T09:00:00Z", "2026-12-07T10:00:00Z"}

-- A session whose Lua transport records each request and answers `body`.
local function recording(body, status)
  local requests = {}
  local s = kiamo.session{url = "http://127.0.0.1:1", token = TOKEN,
    transport = function(request)
      requests[#requests + 1] = request
      return status or 200, {}, body
    end}
  return s, requests
end

describe("kiamo JSON", function()
  local echo, s
  setup(function() echo = loopback.start("echo") end)
  teardown(function() echo:stop() end)
  before_each(function()
    s = kiamo.session{url = echo.url, token = TOKEN}
  end)
  after_each(function() s:close() end)

  it("sends an id above 2^53 with its exact digits", function()
    local seen = assert(s:request("POST", "/activities/planning",
      {body = {agents = {BIG}}}))
    assert.equal('{"agents":[9007199254740993]}', seen.body)
    assert.equal("application/json", seen.content_type)
    local rs, requests = recording('{"data": [], "meta": {}}')
    assert(rs:create_planning{periods = {PERIOD}, activities = {2},
      agents = {BIG}})
    assert.truthy(requests[1].body:find('"agents":[9007199254740993]', 1,
      true))
  end)

  it("reads an id above 2^53 exactly and builds its path", function()
    local rs, requests = recording('{"id": 9007199254740993, '
      .. '"last_name": "Big", "login": "big", "group": {"id": 1}}')
    local a = assert(rs:agent(BIG))
    assert.equal(BIG_READ, a.id)
    if math.type then
      assert.equal("integer", math.type(a.id))
      assert.not_equal(BIG - 1, a.id)
    end
    assert(a:reload())
    assert.equal("http://127.0.0.1:1/api/v3/agents/9007199254740993",
      requests[2].url)
  end)

  it("reads an id above 2^53 exactly over HTTP", function()
    local server = loopback.start("fixed", loopback.response(200,
      {["Content-Type"] = "application/json"},
      '{"data": [{"period": {"startTime": "2026-12-07T09:00:00Z", '
      .. '"endTime": "2026-12-07T10:00:00Z"}, "activity": 2, '
      .. '"agent": 9007199254740993}], "meta": {"cursor": {"current": "a",'
      .. ' "prev": null, "next": null, "count": 1}}}'))
    finally(function() server:stop() end)
    local hs = kiamo.session{url = server.url, token = TOKEN}
    local page = assert(hs:get_planning{periods = {PERIOD}, agents = {1}})
    assert.equal(BIG_READ, page.data[1].agent)
    if math.type then
      assert.equal("integer", math.type(page.data[1].agent))
    end
    assert.is_nil(page.cursor.next)
    assert.is_nil(page.cursor.prev)
    assert.equal(1, page.cursor.count)
  end)

  it("sends activities = {} as [] and keeps GET's body on GET", function()
    local _, err = s:get_planning{periods = {PERIOD}, activities = {},
      team = 1}
    -- the echo is no page: the decode error carries what the server saw
    assert.equal("decode", err.kind)
    local seen = cjson.decode(err.body)
    assert.equal("GET", seen.method)
    assert.equal("/api/v3/activities/planning", seen.path)
    assert.truthy(seen.body:find('"activities":[]', 1, true))
    local body = cjson.decode(seen.body)
    assert.same({periods = {{startTime = PERIOD[1], endTime = PERIOD[2]}},
                 activities = {}, team = 1}, body)
  end)

  it("sends DELETE's body with DELETE", function()
    local seen = assert(s:request("DELETE", "/activities/planning",
      {body = {periods = {kiamo.period(PERIOD[1], PERIOD[2])},
               activities = kiamo.array{}, group = 2}}))
    assert.equal("DELETE", seen.method)
    assert.truthy(seen.body:find('"activities":[]', 1, true))
    local rs, requests = recording("", 204)
    assert.is_true(rs:delete_planning{periods = {PERIOD}, activities = {},
      agents = {1}})
    assert.equal("DELETE", requests[1].method)
    assert.truthy(requests[1].body:find('"activities":[]', 1, true))
  end)

  it("sends kiamo.null as null and an empty change as {}", function()
    local rs, requests = recording('{"id": 4, "group": 1}')
    assert(rs:update_agent(4, {team = kiamo.null}))
    assert.equal('{"team":null}', requests[1].body)
    assert(rs:update_agent(4, {}))
    assert.equal("{}", requests[2].body)
    local seen = assert(s:request("POST", "/x",
      {body = {a = kiamo.object{}, b = kiamo.array{}, c = kiamo.null}}))
    local body = cjson.decode(seen.body)
    assert.equal("{}", cjson.encode(body.a))
    assert.equal(cjson.null, body.c)
    assert.truthy(seen.body:find('"b":[]', 1, true))
  end)

  it("reads null as kiamo.null", function()
    local rs = recording('{"id": 4, "group": 1, "avatar": {"url": null}}')
    local a = assert(rs:agent(4))
    assert.equal(kiamo.null, a.avatar.url)
  end)

  it("escapes control characters and refuses invalid UTF-8", function()
    local seen = assert(s:request("POST", "/x",
      {body = {last_name = "Zo\u{eb}\n\"q\""}}))
    assert.equal('{"last_name":"Zo\u{eb}\\n\\"q\\""}', seen.body)
    local ok, err = pcall(s.request, s, "POST", "/x",
      {body = {last_name = "Zo\xeb"}})
    assert.is_false(ok)
    assert.truthy(tostring(err):find("last_name", 1, true))
  end)
end)

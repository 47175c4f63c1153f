-- Specs for the agent methods of kiamo sessions and agent objects,
-- against kiamo-mock, and against a loopback server and a Lua transport
-- for the collection's other response shape.

local kiamo = require "kiamo"

-- math.type where there is one; LuaJIT has no integer type, and there an
-- integral number counts as an integer.
local math_type = require("kiamo.compat").math_type
local mock_server = require "support.mock_server"
local loopback = require "support.loopback"

local TOKEN = "0123456789abcdef0123456789abcdef01234567"

-- The "Create Agent" example answer of the vendor's collection.
local OTHER_SHAPE = [[{
  "first_name": "", "last_name": "Name",
  "avatar": {"color": "yellow", "url": null}, "preferences": [],
  "group": 1, "team": null,
  "localization": {"language": "fr_FR", "timezone": "Europe/Madrid"},
  "ids": {"mail": "kiamo@kiamo.com", "login": "KiamoLogin"}
}]]

local function raises(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok)
  err = tostring(err)
  assert.truthy(err:find(pattern, 1, true),
    "expected an error containing " .. pattern .. ", got " .. err)
  return err
end

describe("kiamo.Session agents", function()
  local server, s, events
  setup(function()
    server = assert(mock_server.start{tokens = {TOKEN}})
  end)
  teardown(function() server:stop() end)
  before_each(function()
    events = {}
    s = kiamo.session{url = server.url, token = TOKEN,
      on_event = function(e) events[#events + 1] = e end}
  end)
  after_each(function() s:close() end)

  describe("agent", function()
    it("returns an object whose fields read as attributes", function()
      local a = assert(s:agent(1))
      assert.is_true(kiamo.is_agent(a))
      assert.equal(kiamo.Agent, getmetatable(a))
      assert.equal("kiamo.Agent", getmetatable(a).__name)
      assert.equal(1, a.id)
      assert.equal("integer", math_type(a.id))
      assert.equal("Lindqvast", a.last_name)
      assert.equal(2, a.group.id)
      assert.equal("Aftersales Group", a.group.label)
      assert.equal(2, a.team.id)
      assert.equal("en_UK", a.language)
      assert.equal("Europe/Paris", a.timezone)
      assert.equal("kiamo.Agent 1 (Lindqvast, login hugo.lindqvast)",
        tostring(a))
    end)

    it("walks its fields with pairs", function()
      local a = assert(s:agent(1))
      local keys = {}
      -- LuaJIT's pairs knows no __pairs: there a:fields() is the way
      local walked = rawget(_G, "jit") and a:fields() or a
      for k, v in pairs(walked) do
        keys[#keys + 1] = k
        assert.equal(v, a[k])
      end
      table.sort(keys)
      assert.same({"avatar", "email", "first_name", "group", "id",
        "language", "last_name", "login", "preferences", "team",
        "timezone"}, keys)
    end)

    it("shows a missing team as the API does", function()
      local a = assert(s:agent(6))
      assert.equal("", a.team.id)
    end)

    it("takes ids as integers, exact floats or digit strings", function()
      assert.equal(1, assert(s:agent("1")).id)
      assert.equal(1, assert(s:agent(1.0)).id)
      for _, e in ipairs(events) do
        assert.equal(server.url .. "/api/v3/agents/1", e.url)
      end
      local _, err = s:agent(kiamo.integer("9007199254740993"))
      assert.equal(server.url .. "/api/v3/agents/9007199254740993", err.url)
    end)

    it("refuses any other id, so no input can change the path", function()
      for _, id in ipairs{"1/../2", "01", "1 ", 0, -3, 1.5, "", true,
                          "9999999999999999999999"} do
        raises("agent: id must be a positive integer", s.agent, s, id)
      end
      raises("agent: id must be a positive integer, got nil", s.agent, s)
      assert.equal(0, #events)
    end)

    it("returns nil and a 404 for an unknown agent", function()
      local a, err = s:agent(999999)
      assert.is_nil(a)
      assert.equal("kiamo: 404 The agent does not exist "
        .. "(GET /api/v3/agents/999999)", tostring(err))
    end)
  end)

  describe("create_agent, update_agent, delete_agent", function()
    it("create, change and delete an agent", function()
      local a = assert(s:create_agent{last_name = "Okafor",
        first_name = "Ada", login = "ada.okafor", group = 3, team = 15,
        language = "de_DE", must_update_password = "true",
        password = "s3cret"})
      assert.equal("integer", math_type(a.id))
      assert.equal(3, a.group.id)
      assert.equal(15, a.team.id)
      assert.equal("de_DE", a.language)
      assert.is_nil(a.password)
      local b = assert(s:update_agent(a.id, {email = "ada@example.com",
        team = kiamo.null}))
      assert.equal("ada@example.com", b.email)
      assert.equal("", b.team.id)
      assert.equal("PATCH", events[#events].method)
      assert.is_true(s:delete_agent(a.id))
      local gone, err = s:agent(a.id)
      assert.is_nil(gone)
      assert.equal(404, err.status)
    end)

    it("sends an empty change as a JSON object", function()
      local a = assert(s:update_agent(2, {}))
      assert.equal(2, a.id)
    end)

    it("accepts the group and team of another agent", function()
      local model = assert(s:agent(1))
      local a = assert(s:create_agent{last_name = "Copy", login = "copy.1",
        group = model.group, team = model.team})
      assert.equal(2, a.group.id)
      assert.equal(2, a.team.id)
      local none = assert(s:agent(6))
      local b = assert(s:update_agent(a.id, {team = none.team}))
      assert.equal("", b.team.id)
    end)

    it("returns the server's errors", function()
      local a, err = s:create_agent{login = "x"}
      assert.is_nil(a)
      assert.equal("Json attributes are missing: last_name", err.info)
      a, err = s:create_agent{last_name = "X", login = "hugo.lindqvast",
        group = 1}
      assert.is_nil(a)
      assert.equal("Arguments are invalid: login: already used", err.info)
      a, err = s:update_agent(1, {language = "xx_XX"})
      assert.is_nil(a)
      assert.equal("Arguments are invalid: language: no match", err.info)
    end)

    it("raises on fields of the wrong type, naming them", function()
      raises("create_agent: group must be a positive integer, got \"two\"",
        s.create_agent, s, {last_name = "X", login = "y", group = "two"})
      raises("create_agent: last_name must be a string, got number",
        s.create_agent, s, {last_name = 5, login = "y", group = 1})
      raises("update_agent: must_update_password must be a boolean",
        s.update_agent, s, 1, {must_update_password = "yes"})
      raises("update_agent: fields must be a table", s.update_agent, s, 1)
      raises("delete_agent: id must be a positive integer", s.delete_agent,
        s, "1;2")
      assert.equal(0, #events)
    end)
  end)

  describe("agent objects", function()
    it("update in place and return themselves", function()
      local a = assert(s:create_agent{last_name = "Obi", login = "obi.1",
        group = 1})
      local same = assert(a:update{last_name = "Obiora", team = 2})
      assert.equal(a, same)
      assert.equal("Obiora", a.last_name)
      assert.equal(2, a.team.id)
      assert.equal("Obiora", assert(s:agent(a.id)).last_name)
    end)

    it("keep their fields when an update fails", function()
      local a = assert(s:agent(3))
      local ok, err = a:update{group = 99}
      assert.is_nil(ok)
      assert.equal("Arguments are invalid: group: no match", err.info)
      assert.equal(1, a.group.id)
    end)

    it("reload what changed elsewhere, and delete themselves", function()
      local a = assert(s:create_agent{last_name = "Ruiz", login = "ruiz.1",
        group = 2})
      assert(s:update_agent(a.id, {email = "ruiz@example.com"}))
      assert.equal("", a.email)
      assert.equal(a, assert(a:reload()))
      assert.equal("ruiz@example.com", a.email)
      assert.is_true(a:delete())
      local again, err = a:reload()
      assert.is_nil(again)
      assert.equal(404, err.status)
      assert.equal("ruiz@example.com", a.email)
    end)

    it("are read-only", function()
      local a = assert(s:agent(1))
      raises("kiamo.Agent fields are read-only (field last_name)",
        function() a.last_name = "X" end)
    end)
  end)
end)

describe("kiamo agent objects from other answers", function()
  local function transport_answering(body)
    return function() return 200, {["Content-Type"] = "application/json"},
      body end
  end

  it("keep methods ahead of fields with the same name", function()
    local s = kiamo.session{url = "http://127.0.0.1:1", token = TOKEN,
      transport = transport_answering('{"id": 8, "last_name": "M", '
        .. '"update": "field", "delete": 1, "fields": [], "login": "m"}')}
    local a = assert(s:agent(8))
    assert.is_function(a.update)
    assert.is_function(a.delete)
    assert.is_function(a.fields)
    local fields = a:fields()
    assert.equal("field", fields.update)
    assert.equal(1, fields.delete)
    local seen = {}
    -- LuaJIT's pairs knows no __pairs: there a:fields() is the way
    for k, v in pairs(rawget(_G, "jit") and a:fields() or a) do
      seen[k] = v
    end
    assert.equal("field", seen.update)
    assert.equal(6, (function()
      local n = 0
      for _ in pairs(seen) do n = n + 1 end
      return n
    end)())
  end)

  it("read the collection's other shape like the GET one", function()
    local server = loopback.start("fixed", loopback.response(201,
      {["Content-Type"] = "application/json",
       Location = "/api/v3/agents/77"}, OTHER_SHAPE))
    finally(function() server:stop() end)
    local s = kiamo.session{url = server.url, token = TOKEN}
    local a = assert(s:create_agent{last_name = "Name",
      login = "KiamoLogin", group = 1})
    assert.equal(77, a.id)
    assert.equal(1, a.group.id)
    assert.equal("", a.team.id)
    assert.equal("fr_FR", a.language)
    assert.equal("Europe/Madrid", a.timezone)
    assert.equal("KiamoLogin", a.login)
    assert.equal("kiamo@kiamo.com", a.email)
    assert.is_nil(a.localization)
    assert.is_nil(a.ids)
    assert.equal("kiamo.Agent 77 (Name, login KiamoLogin)", tostring(a))
  end)

  it("read the other shape with a bare team id and no id", function()
    local answer = OTHER_SHAPE:gsub('"team": null', '"team": 15')
    local s = kiamo.session{url = "http://127.0.0.1:1", token = TOKEN,
      transport = function(request)
        assert.equal("POST", request.method)
        return 201, {}, answer
      end}
    local a = assert(s:create_agent{last_name = "Name", login = "K",
      group = 1})
    assert.equal(15, a.team.id)
    assert.equal("integer", math_type(a.team.id))
    assert.is_nil(a.id)
    raises("delete: the agent has no id", a.delete, a)
  end)

  it("read an empty creation answer back through its Location", function()
    local calls = {}
    local s = kiamo.session{url = "http://127.0.0.1:1", token = TOKEN,
      transport = function(request)
        calls[#calls + 1] = request.method .. " " .. request.url
        if request.method == "POST" then
          return 201, {location = "http://h/api/v3/agents/12"}, ""
        end
        return 200, {}, '{"id": 12, "last_name": "L", "login": "l", '
          .. '"group": {"id": 1, "label": "G"}}'
      end}
    local a = assert(s:create_agent{last_name = "L", login = "l",
      group = 1})
    assert.equal(12, a.id)
    assert.same({"POST http://127.0.0.1:1/api/v3/agents",
                 "GET http://127.0.0.1:1/api/v3/agents/12"}, calls)
  end)

  it("are a decode error when the answer is no agent", function()
    local s = kiamo.session{url = "http://127.0.0.1:1", token = TOKEN,
      transport = transport_answering("[1, 2]")}
    local a, err = s:agent(4)
    assert.is_nil(a)
    assert.equal("decode", err.kind)
    assert.equal("kiamo: decode: 200 the answer is not an agent object "
      .. "(GET /api/v3/agents/4)", tostring(err))
  end)
end)

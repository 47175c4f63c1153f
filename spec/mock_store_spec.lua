local mock = require "kiamo.mock"
local json = require "kiamo.mock.json"
local sha256 = require "kiamo.mock.sha256"

local TOKEN = string.rep("ab", 20)
local EXTRA = string.rep("cd", 20)

local function fixture()
  return {
    tokens = {{token = TOKEN, apis = {"activity_planning", "agent"},
      verbs = {"GET", "POST", "PUT", "DELETE"}}},
    languages = {"fr_FR", "en_UK"},
    timezones = {"Europe/Paris", "Europe/London"},
    groups = {{id = 1, label = "Sales", timezone = "Europe/Paris"}},
    teams = {{id = 4, label = "Team", timezone = "Europe/London"}},
    activities = {{id = 9, label = "Calls"}},
    agents = {
      {id = 1, last_name = "Arden", login = "arden", group = 1},
      {id = 2, last_name = "Brook", login = "brook", group = 1, team = 4,
        timezone_type = "custom", timezone_code = "Europe/London"},
    },
    planning = {{agent = 1, activity = 9, startTime = "2024-01-15T08:00:00Z",
      endTime = "2024-01-15T09:00:00Z"}},
    load_balancing = {kiwi = {result = "success"}},
  }
end

local function read(path)
  local file = assert(io.open(path, "rb"))
  local text = file:read("a")
  file:close()
  return text
end

local function write(path, text)
  local file = assert(io.open(path, "wb"))
  file:write(text)
  file:close()
end

local function temporary_path()
  local path = os.tmpname()
  os.remove(path)
  return path
end

local function call(app, method, path, body, token)
  if type(body) == "table" then body = assert(json.encode(body)) end
  local status, _, text = app:handle{method = method, path = "/api/v3" .. path,
    headers = {["kiamo-api-token"] = token or TOKEN}, body = body}
  return status, text
end

local PLANNING_QUERY = {periods = {{startTime = "2024-01-15T00:00:00Z",
  endTime = "2024-01-16T00:00:00Z"}}, activities = json.array{}, group = 1}

describe("kiamo.mock state file", function()
  local state_file

  before_each(function()
    state_file = temporary_path()
  end)

  after_each(function()
    os.remove(state_file)
    os.remove(state_file .. ".tmp")
  end)

  it("is created from the fixture at start", function()
    assert(mock.new{fixture = fixture(), state_file = state_file})
    local doc = assert(json.decode(read(state_file)))
    assert.equal(2, #doc.agents)
    assert.equal(3, doc.next_agent_id)
    assert.equal("2024-01-15T08:00:00Z", doc.planning[1].startTime)
    assert.equal(TOKEN, doc.tokens[1].token)
  end)

  it("carries every change to a new application", function()
    local app = assert(mock.new{fixture = fixture(), state_file = state_file})
    assert.equal(201, (call(app, "POST", "/agents", {last_name = "Cole",
      login = "cole", group = 1, team = 4, password = "hunter2",
      must_update_password = "true", timezone_type = "team"})))
    assert.equal(200, (call(app, "PATCH", "/agents/2", {email = "b@example.com",
      team = json.null})))
    assert.equal(201, (call(app, "DELETE", "/agents/1")))
    assert.equal(200, (call(app, "POST", "/activities/planning",
      {periods = {{startTime = "2024-01-15T10:00:00Z",
        endTime = "2024-01-15T10:30:00Z"}}, activities = {9},
        agents = {2, 3}})))
    local expected = {}
    for _, id in ipairs{2, 3} do
      expected[id] = select(2, call(app, "GET", "/agents/" .. id))
    end
    local _, planning = call(app, "GET", "/activities/planning",
      PLANNING_QUERY)
    app:close()

    local again = assert(mock.new{fixture_file = "/nonexistent.json",
      state_file = state_file})
    for _, id in ipairs{2, 3} do
      assert.equal(expected[id],
        select(2, call(again, "GET", "/agents/" .. id)))
    end
    assert.equal(404, (call(again, "GET", "/agents/1")))
    local _, replanned = call(again, "GET", "/activities/planning",
      PLANNING_QUERY)
    assert.equal(planning:gsub('"current":"[^"]*"', ""),
      replanned:gsub('"current":"[^"]*"', ""))
    assert.equal(201, (call(again, "DELETE", "/agents/3")))
    local _, text = call(again, "POST", "/agents",
      {last_name = "Dale", login = "dale", group = 1})
    assert.equal(4, json.decode(text).id)
  end)

  it("keeps passwords as salted hashes only", function()
    local app = assert(mock.new{fixture = fixture(), state_file = state_file})
    call(app, "POST", "/agents", {last_name = "Cole", login = "cole",
      group = 1, password = "correct horse battery"})
    local text = read(state_file)
    assert.is_nil(text:find("correct horse", 1, true))
    local agent = json.decode(text).agents[3]
    assert.equal(sha256.hex(agent.password_salt .. "correct horse battery"),
      agent.password_sha256)
    assert.is_nil(agent.password)
    call(app, "PATCH", "/agents/3", {password = "second try"})
    local changed = json.decode(read(state_file)).agents[3]
    assert.not_equal(agent.password_sha256, changed.password_sha256)
    assert.equal(sha256.hex(changed.password_salt .. "second try"),
      changed.password_sha256)
  end)

  it("is written before handle returns, through a renamed temporary",
    function()
      local app = assert(mock.new{fixture = fixture(),
        state_file = state_file})
      local before = read(state_file)
      call(app, "PATCH", "/agents/1", {first_name = "Ada"})
      assert.not_equal(before, read(state_file))
      assert.matches('"first_name":"Ada"', read(state_file))
      assert.is_nil(io.open(state_file .. ".tmp"))
      local unchanged = read(state_file)
      call(app, "GET", "/agents/1")
      assert.equal(unchanged, read(state_file))
    end)

  it("never saves the tokens given to new()", function()
    local app = assert(mock.new{fixture = fixture(), state_file = state_file,
      tokens = {{token = EXTRA}}})
    assert.equal(201, (call(app, "POST", "/agents",
      {last_name = "Cole", login = "cole", group = 1}, EXTRA)))
    assert.is_nil(read(state_file):find(EXTRA, 1, true))
  end)

  it("is loaded instead of the fixture when it exists", function()
    local f = fixture()
    f.agents[1].last_name = "FromState"
    write(state_file, assert(json.encode(f)))
    local app = assert(mock.new{fixture = fixture(), state_file = state_file})
    assert.matches('"last_name":"FromState"', select(2,
      call(app, "GET", "/agents/1")))
  end)

  it("refuses a bad state file, naming it", function()
    write(state_file, '{"tokens": [}')
    local app, err = mock.new{fixture = fixture(), state_file = state_file}
    assert.is_nil(app)
    assert.equal(state_file .. ": at byte 13: unexpected character", err)
    write(state_file, '{"tokens": []}')
    app, err = mock.new{fixture = fixture(), state_file = state_file}
    assert.is_nil(app)
    assert.equal(state_file .. ": languages: missing", err)
  end)

  it("refuses a state file it cannot write", function()
    local path = "/nonexistent-dir/state.json"
    local app, err = mock.new{fixture = fixture(), state_file = path}
    assert.is_nil(app)
    assert.matches("^" .. path:gsub("%p", "%%%0") .. ": ", err)
  end)
end)

describe("kiamo.mock fixtures", function()
  local function refused(change, expected)
    local f = fixture()
    change(f)
    local app, err = mock.new{fixture = f}
    assert.is_nil(app)
    assert.equal("fixture: " .. expected, err)
  end

  local CASES = {
    {"a top level that is not an object", function(f)
      for k in pairs(f) do f[k] = nil end
      f[1] = 1
    end, "top level: object expected"},
    {"missing tokens", function(f) f.tokens = nil end, "tokens: missing"},
    {"a short token", function(f) f.tokens[1].token = "abc" end,
      "tokens[1].token: 40 hexadecimal characters expected"},
    {"a duplicate token", function(f)
      f.tokens[2] = f.tokens[1]
    end, "tokens[2].token: duplicate token"},
    {"an unknown api", function(f) f.tokens[1].apis = {"agents"} end,
      'tokens[1].apis[1]: unknown value "agents"'},
    {"an unknown verb", function(f) f.tokens[1].verbs = {"GET", "PATCH"} end,
      'tokens[1].verbs[2]: unknown value "PATCH"'},
    {"a non-boolean active", function(f) f.tokens[1].active = "yes" end,
      "tokens[1].active: boolean expected"},
    {"no language", function(f) f.languages = {} end,
      "languages: at least one expected"},
    {"a duplicate language", function(f) f.languages[2] = "fr_FR" end,
      'languages[2]: duplicate "fr_FR"'},
    {"a time zone that is not a string", function(f)
      f.timezones[2] = 5
    end, "timezones[2]: string expected"},
    {"a duplicate group id", function(f)
      f.groups[2] = {id = 1, label = "x", timezone = "Europe/Paris"}
    end, "groups[2].id: duplicate id 1"},
    {"a group with an unknown time zone", function(f)
      f.groups[1].timezone = "Mars/Base"
    end, 'groups[1].timezone: unknown time zone "Mars/Base"'},
    {"a team without a label", function(f) f.teams[1].label = nil end,
      "teams[1].label: missing"},
    {"an activity id that is not an integer", function(f)
      f.activities[1].id = 9.5
    end, "activities[1].id: positive integer expected"},
    {"an agent without last_name", function(f)
      f.agents[2].last_name = nil
    end, "agents[2].last_name: missing"},
    {"an agent with an empty login", function(f)
      f.agents[2].login = ""
    end, "agents[2].login: empty string"},
    {"a duplicate login", function(f) f.agents[2].login = "arden" end,
      'agents[2].login: duplicate login "arden"'},
    {"a duplicate agent id", function(f) f.agents[2].id = 1 end,
      "agents[2].id: duplicate id 1"},
    {"an agent of an unknown group", function(f) f.agents[1].group = 7 end,
      "agents[1].group: unknown group 7"},
    {"an agent of an unknown team", function(f) f.agents[1].team = 7 end,
      "agents[1].team: unknown team 7"},
    {"an agent with an unknown language", function(f)
      f.agents[1].language = "xx_XX"
    end, 'agents[1].language: unknown language "xx_XX"'},
    {"a custom zone without a code", function(f)
      f.agents[2].timezone_code = nil
    end, "agents[2].timezone_code: missing (timezone_type is custom)"},
    {"a planning entry with a bad date", function(f)
      f.planning[1].startTime = "2024-02-30T08:00:00Z"
    end, "planning[1].startTime: ISO 8601 UTC date expected "
      .. "(YYYY-MM-DDTHH:MM:SSZ)"},
    {"a planning entry off the quarter", function(f)
      f.planning[1].endTime = "2024-01-15T09:10:00Z"
    end, "planning[1].endTime: not on a quarter hour"},
    {"a planning entry ending before it starts", function(f)
      f.planning[1].endTime = "2024-01-15T08:00:00Z"
    end, "planning[1].endTime: not after startTime"},
    {"a planning entry for an unknown agent", function(f)
      f.planning[1].agent = 3
    end, "planning[1].agent: unknown agent 3"},
    {"a planning entry for an unknown activity", function(f)
      f.planning[1].activity = 1
    end, "planning[1].activity: unknown activity 1"},
    {"load_balancing that is not an object", function(f)
      f.load_balancing = {1, 2}
    end, "load_balancing: object expected"},
    {"a load-balancing answer that is not an object", function(f)
      f.load_balancing.kiwi = "up"
    end, "load_balancing.kiwi: object expected"},
    {"a next_agent_id not above every id", function(f)
      f.next_agent_id = 2
    end, "next_agent_id: must be greater than every agent id"},
  }
  for _, case in ipairs(CASES) do
    it("refuses " .. case[1], function()
      refused(case[2], case[3])
    end)
  end

  it("names the fixture file and the JSON error", function()
    local path = temporary_path()
    finally(function() os.remove(path) end)
    write(path, '{"tokens": [1,]}')
    local app, err = mock.new{fixture_file = path}
    assert.is_nil(app)
    assert.equal(path .. ": at byte 15: trailing comma", err)
    app, err = mock.new{fixture_file = path .. ".missing"}
    assert.is_nil(app)
    assert.matches("^" .. (path .. ".missing"):gsub("%p", "%%%0"), err)
  end)

  it("reads a fixture file", function()
    local path = temporary_path()
    finally(function() os.remove(path) end)
    write(path, assert(json.encode(fixture())))
    local app = assert(mock.new{fixture_file = path})
    assert.equal(200, (call(app, "GET", "/agents/2")))
  end)

  it("ships a realistic default fixture", function()
    local path = assert(mock.default_fixture())
    local doc = assert(json.decode(read(path)))
    local full = "68d27ac06e53fef962c49a4b0d18691019c3a31a"
    local read_only, inactive
    for _, token in ipairs(doc.tokens) do
      if token.token == full then
        assert.equal(5, #token.apis)
        assert.equal(4, #token.verbs)
      elseif #token.verbs == 1 and token.verbs[1] == "GET"
          and #token.apis == 5 then
        read_only = token.token
      elseif token.active == false then
        inactive = token.token
      end
    end
    assert.truthy(read_only)
    assert.truthy(inactive)
    assert.is_true(#doc.agents >= 45 and #doc.agents <= 60)
    assert.equal(3, #doc.groups)
    assert.equal(5, #doc.teams)
    assert.equal(6, #doc.activities)
    for _, app in ipairs{"kiwi", "supervision", "supervision-api",
        "agent-api"} do
      assert.equal("success", doc.load_balancing[app].result)
    end
    for _, agent in ipairs(doc.agents) do
      if agent.email ~= "" then
        assert.matches("@example%.com$", agent.email)
      end
    end
    local app = assert(mock.new())
    assert.equal(200, (call(app, "GET", "/agents/30", nil, full)))
    assert.equal(200, (call(app, "GET", "/load-balancing/agent-api", nil,
      read_only)))
    assert.equal(401, (call(app, "GET", "/agents/30", nil, inactive)))
  end)

  it("refuses fixture and fixture_file together", function()
    assert.has_error(function()
      mock.new{fixture = fixture(), fixture_file = "x.json"}
    end)
  end)
end)

local mock = require "kiamo.mock"
local json = require "kiamo.mock.json"

local FULL = string.rep("a1", 20)
local READ = string.rep("b2", 20)
local PLANNER = string.rep("c3", 20)
local AGENT_EDITOR = string.rep("d4", 20)
local NO_PUT = string.rep("e5", 20)
local WRITE_ONLY = string.rep("f6", 20)
local INACTIVE = string.rep("07", 20)

local ALL_APIS = {"activity_planning", "agent", "contact_manager",
  "interaction", "supervision"}
local ALL_VERBS = {"GET", "POST", "PUT", "DELETE"}

local KIWI = {
  result = "success",
  frontal_server = {id = 1, host = "http://127.0.0.1"},
  ports = {http = 3015, https = 3016},
  session_servers = {{host = "sbc1.example", port = 123}},
}

local function fixture()
  return {
    tokens = {
      {token = FULL, apis = ALL_APIS, verbs = ALL_VERBS},
      {token = READ, apis = ALL_APIS, verbs = {"GET"}},
      {token = PLANNER, apis = {"activity_planning"}, verbs = ALL_VERBS},
      {token = AGENT_EDITOR, apis = {"agent"}, verbs = {"GET", "PUT"}},
      {token = NO_PUT, apis = ALL_APIS, verbs = {"GET", "POST", "DELETE"}},
      {token = WRITE_ONLY, apis = ALL_APIS, verbs = {"POST"}},
      {token = INACTIVE, apis = ALL_APIS, verbs = ALL_VERBS, active = false},
    },
    languages = {"fr_FR", "en_UK", "de_DE"},
    timezones = {"Europe/Paris", "Europe/London", "Europe/Lisbon",
      "Europe/Berlin"},
    groups = {
      {id = 1, label = "Sales", timezone = "Europe/Paris"},
      {id = 2, label = "Aftersales Group", timezone = "Europe/London"},
    },
    teams = {
      {id = 10, label = "Team A", timezone = "Europe/Lisbon"},
      {id = 11, label = "Team B", timezone = "Europe/Berlin"},
    },
    activities = {{id = 7, label = "Calls"}, {id = 5, label = "Mail"},
      {id = 6, label = "Chat"}},
    agents = {
      {id = 1, last_name = "Arden", login = "arden", group = 1, team = 10},
      {id = 2, last_name = "Brook", login = "brook", group = 1, team = 11},
      {id = 3, last_name = "Coral", login = "coral", group = 2, team = 10},
      {id = 4, first_name = "Dana", last_name = "Dune", login = "dune",
        email = "dd@example.com", group = 2, language = "en_UK"},
    },
    load_balancing = {kiwi = KIWI},
  }
end

local function new_app(options)
  options = options or {}
  options.fixture = options.fixture or fixture()
  return assert(mock.new(options))
end

-- Sends a request; a table body is encoded. Returns status, headers, body
-- and the decoded body.
local function call(app, method, path, body, token, query)
  if type(body) == "table" then body = assert(json.encode(body)) end
  local status, headers, text = app:handle{
    method = method, path = "/api/v3" .. path, query = query,
    headers = {["kiamo-api-token"] = token or FULL}, body = body,
  }
  return status, headers, text, text ~= "" and json.decode(text) or nil
end

local function period(start, stop)
  return {startTime = "2024-01-15T" .. start .. "Z",
    endTime = "2024-01-15T" .. stop .. "Z"}
end

local function plan(app, periods, activities, agent_ids)
  local status, _, text = call(app, "POST", "/activities/planning",
    {periods = periods, activities = activities, agents = agent_ids})
  assert.equal(200, status, text)
end

-- The entries of a GET as "agent/activity/start-end" strings (HH:MM).
local function fetch(app, body, query)
  local status, _, text, doc = call(app, "GET", "/activities/planning",
    body, nil, query)
  assert.equal(200, status, text)
  local list = {}
  for i, entry in ipairs(doc.data) do
    list[i] = string.format("%d/%d/%s-%s", entry.agent, entry.activity,
      entry.period.startTime:sub(12, 16), entry.period.endTime:sub(12, 16))
  end
  return list, doc
end

describe("kiamo.mock", function()
  describe("routing", function()
    it("answers 404 Not found for an unknown path, before the token",
      function()
        local app = new_app()
        for _, path in ipairs{"/api/v3/nothing", "/api/v2/agents/1",
            "/api/v3/agents/", "/api/v3//agents", "/api/v3/agents/1/x",
            "/api/v3", "/", "/api/v3/activities"} do
          local status, headers, body = app:handle{method = "GET",
            path = path, headers = {}}
          assert.equal(404, status, path)
          assert.equal('{"info":"Not found"}', body)
          assert.equal("application/json", headers["Content-Type"])
        end
      end)

    it("answers 405 with Allow for a known path and another verb",
      function()
        local app = new_app()
        for _, case in ipairs{
          {"PUT", "/agents/1", "GET, PATCH, DELETE"},
          {"POST", "/agents/1", "GET, PATCH, DELETE"},
          {"GET", "/agents", "POST"},
          {"PATCH", "/activities/planning", "GET, POST, DELETE"},
          {"POST", "/load-balancing/kiwi", "GET"},
          {"get", "/agents/1", "GET, PATCH, DELETE"},
        } do
          local status, headers = app:handle{method = case[1],
            path = "/api/v3" .. case[2], headers = {}}
          assert.equal(405, status, case[1] .. " " .. case[2])
          assert.equal(case[3], headers.Allow)
        end
      end)
  end)

  describe("authentication", function()
    it("answers 401 without a token, with an unknown or inactive one",
      function()
        local app = new_app()
        for _, headers in ipairs{{}, {["kiamo-api-token"] = ""},
            {["kiamo-api-token"] = string.rep("9", 40)},
            {["kiamo-api-token"] = INACTIVE},
            {["kiamo-api-token"] = FULL:upper()},
            {["kiamo-api-token"] = FULL .. " "}} do
          local status, _, body = app:handle{method = "GET",
            path = "/api/v3/agents/1", headers = headers}
          assert.equal(401, status)
          assert.equal('{"info":"The authentication token is not valid"}',
            body)
        end
      end)

    it("answers 401 to a token not issued for the API", function()
      local app = new_app()
      assert.equal(401, (call(app, "GET", "/agents/1", nil, PLANNER)))
      assert.equal(401, (call(app, "POST", "/agents", {}, PLANNER)))
      assert.equal(401, (call(app, "GET", "/activities/planning", {},
        AGENT_EDITOR)))
      assert.equal(200, (call(app, "GET", "/agents/1", nil, AGENT_EDITOR)))
    end)

    it("answers 403 Wrong access rights per verb", function()
      local app = new_app()
      local forbidden = {
        {"POST", "/activities/planning", READ},
        {"DELETE", "/activities/planning", READ},
        {"GET", "/activities/planning", WRITE_ONLY},
        {"POST", "/agents", READ},
        {"PATCH", "/agents/1", READ},
        {"DELETE", "/agents/1", READ},
        {"PATCH", "/agents/1", NO_PUT},
        {"DELETE", "/agents/1", AGENT_EDITOR},
        {"GET", "/agents/1", WRITE_ONLY},
      }
      for _, case in ipairs(forbidden) do
        local status, _, body = call(app, case[1], case[2], {}, case[3])
        assert.equal(403, status, case[1] .. " " .. case[2])
        assert.equal('{"info":"Wrong access rights"}', body)
      end
    end)

    it("lets PATCH through with the PUT right", function()
      local app = new_app()
      local status = call(app, "PATCH", "/agents/1", {email = "a@example.com"},
        AGENT_EDITOR)
      assert.equal(200, status)
    end)

    it("checks the token before the resource and the resource before the body",
      function()
        local app = new_app()
        assert.equal(401, (call(app, "GET", "/agents/999", nil, INACTIVE)))
        assert.equal(403, (call(app, "DELETE", "/agents/999", nil, READ)))
        assert.equal(404, (call(app, "PATCH", "/agents/999", "not json")))
        assert.equal(401, (call(app, "GET", "/activities/planning",
          "not json", INACTIVE)))
      end)

    it("adds tokens given to new() for every API with their verbs",
      function()
        local extra = string.rep("Ab", 20)
        local app = new_app{tokens = {{token = extra, verbs = {"GET"}},
          {token = string.rep("cD", 20)}}}
        assert.equal(200, (call(app, "GET", "/agents/1", nil, extra)))
        assert.equal(200, (call(app, "GET", "/load-balancing/kiwi", nil,
          extra)))
        assert.equal(403, (call(app, "DELETE", "/agents/1", nil, extra)))
        assert.equal(201, (call(app, "DELETE", "/agents/1", nil,
          string.rep("cD", 20))))
        local bad, err = mock.new{fixture = fixture(),
          tokens = {{token = "abc"}}}
        assert.is_nil(bad)
        assert.equal("tokens[1]: 40 hexadecimal characters expected", err)
      end)
  end)

  describe("load balancing", function()
    it("answers the application's servers in API.md's shape", function()
      local app = new_app()
      local status, headers, body = call(app, "GET", "/load-balancing/kiwi")
      assert.equal(200, status)
      assert.equal("application/json", headers["Content-Type"])
      assert.equal('{"result":"success","frontal_server":{"id":1,'
        .. '"host":"http://127.0.0.1"},"ports":{"http":3015,"https":3016},'
        .. '"session_servers":[{"host":"sbc1.example","port":123}]}', body)
    end)

    it("is open to any active token with the GET right", function()
      local app = new_app()
      assert.equal(200, (call(app, "GET", "/load-balancing/kiwi", nil,
        PLANNER)))
      assert.equal(200, (call(app, "GET", "/load-balancing/kiwi", nil,
        AGENT_EDITOR)))
      assert.equal(403, (call(app, "GET", "/load-balancing/kiwi", nil,
        WRITE_ONLY)))
      assert.equal(401, (call(app, "GET", "/load-balancing/kiwi", nil,
        INACTIVE)))
    end)

    it("answers 404 ERR_1020 for an unknown app", function()
      local app = new_app()
      local status, _, body = call(app, "GET", "/load-balancing/kiwis")
      assert.equal(404, status)
      assert.equal('{"code":"ERR_1020","info":"Arguments are invalid: '
        .. 'app: no match"}', body)
    end)

    it("percent-decodes the app", function()
      local f = fixture()
      f.load_balancing["agent api"] = KIWI
      local app = new_app{fixture = f}
      assert.equal(200, (call(app, "GET", "/load-balancing/%6Biwi")))
      assert.equal(200, (call(app, "GET", "/load-balancing/agent%20api")))
      assert.equal(404, (call(app, "GET", "/load-balancing/agent+api")))
    end)
  end)

  describe("planning validation", function()
    local GOOD_PERIOD = period("08:00:00", "09:00:00")

    -- body, expected code, expected info; `verbs` limits a case.
    local CASES = {
      {"not json", "ERR_1000", "The json supplied is invalid"},
      {"", "ERR_1000", "The json supplied is invalid"},
      {"[]", "ERR_1000", "The json supplied is invalid"},
      {"null", "ERR_1000", "The json supplied is invalid"},
      {'"periods"', "ERR_1000", "The json supplied is invalid"},
      {'{"periods":[]', "ERR_1000", "The json supplied is invalid"},
      {{}, "ERR_1010", "Json attributes are missing: periods"},
      {{periods = json.null}, "ERR_1000",
        "The json supplied is invalid: periods: array"},
      {{periods = {startTime = "x"}}, "ERR_1000",
        "The json supplied is invalid: periods: array"},
      {{periods = "x"}, "ERR_1000",
        "The json supplied is invalid: periods: array"},
      {{periods = json.array{}}, "ERR_1000",
        "The json supplied is invalid: periods array empty"},
      {{periods = {{endTime = "x"}}}, "ERR_1010",
        'Json attributes are missing: "periods" array item "startTime"'},
      {{periods = {GOOD_PERIOD, 5}}, "ERR_1010",
        'Json attributes are missing: "periods" array item "startTime"'},
      {{periods = {{startTime = "bad", endTime = "bad"}, {endTime = "x"}}},
        "ERR_1010",
        'Json attributes are missing: "periods" array item "startTime"'},
      {{periods = {{startTime = "bad"}}}, "ERR_1010",
        'Json attributes are missing: "periods" array item "endTime"'},
      {{periods = {{startTime = "bad", endTime = "x"}, {startTime = "x"}}},
        "ERR_1010",
        'Json attributes are missing: "periods" array item "endTime"'},
      {{periods = {{startTime = json.null, endTime = "bad"}}}, "ERR_1000",
        "The json supplied is invalid: periods array item startTime: "
          .. "string format ISO 8601 UTC"},
      {{periods = {{startTime = "2024-01-15T08:00:00Z", endTime = "bad"},
          {startTime = "2024-01-15T08:00:00+00:00",
            endTime = "2024-01-15T09:00:00Z"}}}, "ERR_1000",
        "The json supplied is invalid: periods array item startTime: "
          .. "string format ISO 8601 UTC"},
      {{periods = {GOOD_PERIOD, {startTime = "2024-01-15T08:07:00Z",
          endTime = "2024-01-15T09:00:00.5Z"}}}, "ERR_1000",
        "The json supplied is invalid: periods array item endTime: "
          .. "string format ISO 8601 UTC"},
      {{periods = {{startTime = "2024-01-15T08:10:00Z",
          endTime = "2024-01-15T09:05:00Z"}}}, "ERR_1000",
        "The json supplied is invalid: periods array item startTime: "
          .. "string format not a quarter"},
      {{periods = {{startTime = "2024-01-15T09:00:00Z",
          endTime = "2024-01-15T08:50:00Z"}}}, "ERR_1000",
        "The json supplied is invalid: periods array item endTime: "
          .. "string format not a quarter"},
      {{periods = {GOOD_PERIOD, period("09:00:30", "09:00:59")}}, "ERR_1020",
        "Arguments are invalid: periods array item: endTime not after "
          .. "startTime"},
      {{periods = {period("10:00:00", "09:00:00")}}, "ERR_1020",
        "Arguments are invalid: periods array item: endTime not after "
          .. "startTime"},
      {{periods = {GOOD_PERIOD}}, "ERR_1010",
        "Json attributes are missing: activities"},
      {{periods = {GOOD_PERIOD}, activities = json.null}, "ERR_1000",
        "The json supplied is invalid: activities: array"},
      {{periods = {GOOD_PERIOD}, activities = 5}, "ERR_1000",
        "The json supplied is invalid: activities: array"},
      {{periods = {GOOD_PERIOD}, activities = json.array{}}, "ERR_1000",
        "The json supplied is invalid: activities array empty",
        verbs = {POST = true}},
      {{periods = {GOOD_PERIOD}, activities = {999, "x"}, agents = {1}},
        "ERR_1000", "The json supplied is invalid: activities array item: int"},
      {{periods = {GOOD_PERIOD}, activities = {5, 5.0}, agents = {1}},
        "ERR_1000", "The json supplied is invalid: activities array item: int"},
      {{periods = {GOOD_PERIOD}, activities = {json.null}, agents = {1}},
        "ERR_1000", "The json supplied is invalid: activities array item: int"},
      {{periods = {GOOD_PERIOD}, activities = {5, 999}, agents = {"x"}},
        "ERR_1020", "Arguments are invalid: activities array item: no match"},
      {'{"periods":[{"startTime":"2024-01-15T08:00:00Z","endTime":'
          .. '"2024-01-15T09:00:00Z"}],"activities":[99999999999999999999],'
          .. '"agents":[1]}',
        "ERR_1020", "Arguments are invalid: activities array item: no match"},
      {{periods = {GOOD_PERIOD}, activities = {5}, team = 10}, "ERR_1010",
        "Json attributes are missing: agents", verbs = {POST = true}},
      {{periods = {GOOD_PERIOD}, activities = {5}}, "ERR_1010",
        "Json attributes are missing: agents or team or group",
        verbs = {GET = true, DELETE = true}},
      {{periods = {GOOD_PERIOD}, activities = {5}, agents = {1}, team = 10},
        "ERR_1020", "Arguments are invalid: only one of agents or team or "
          .. "group", verbs = {GET = true, DELETE = true}},
      {{periods = {GOOD_PERIOD}, activities = {5}, team = "x", group = "y"},
        "ERR_1020", "Arguments are invalid: only one of agents or team or "
          .. "group", verbs = {GET = true, DELETE = true}},
      {{periods = {GOOD_PERIOD}, activities = {5}, agents = json.null,
          group = 1},
        "ERR_1020", "Arguments are invalid: only one of agents or team or "
          .. "group", verbs = {GET = true, DELETE = true}},
      {{periods = {GOOD_PERIOD}, activities = {5}, agents = json.null},
        "ERR_1000", "The json supplied is invalid: agents: array"},
      {{periods = {GOOD_PERIOD}, activities = {5}, agents = {id = 1}},
        "ERR_1000", "The json supplied is invalid: agents: array"},
      {{periods = {GOOD_PERIOD}, activities = {5}, agents = json.array{}},
        "ERR_1000", "The json supplied is invalid: agents array empty"},
      {{periods = {GOOD_PERIOD}, activities = {5}, agents = {999, 1.5}},
        "ERR_1000", "The json supplied is invalid: agents array item: int"},
      {{periods = {GOOD_PERIOD}, activities = {5}, agents = {1, 999}},
        "ERR_1020", "Arguments are invalid: agents array item: no match"},
      {{periods = {GOOD_PERIOD}, activities = {5}, team = "10"},
        "ERR_1000", "The json supplied is invalid: team: int",
        verbs = {GET = true, DELETE = true}},
      {{periods = {GOOD_PERIOD}, activities = {5}, team = json.null},
        "ERR_1000", "The json supplied is invalid: team: int",
        verbs = {GET = true, DELETE = true}},
      {{periods = {GOOD_PERIOD}, activities = {5}, team = 12},
        "ERR_1020", "Arguments are invalid: team: no match",
        verbs = {GET = true, DELETE = true}},
      {{periods = {GOOD_PERIOD}, activities = {5}, group = 1.0},
        "ERR_1000", "The json supplied is invalid: group: int",
        verbs = {GET = true, DELETE = true}},
      {{periods = {GOOD_PERIOD}, activities = {5}, group = 3},
        "ERR_1020", "Arguments are invalid: group: no match",
        verbs = {GET = true, DELETE = true}},
    }

    for _, verb in ipairs{"POST", "GET", "DELETE"} do
      for index, case in ipairs(CASES) do
        if not case.verbs or case.verbs[verb] then
          it(string.format("%s case %d answers %s %s", verb, index, case[2],
            case[3]), function()
            local app = new_app()
            local status, headers, body = call(app, verb,
              "/activities/planning", case[1])
            assert.equal(400, status)
            assert.equal("application/json", headers["Content-Type"])
            assert.equal(json.encode(json.object{"code", case[2],
              "info", case[3]}), body)
          end)
        end
      end
    end

    it("refuses offsets, fractions, impossible dates and other layouts",
      function()
        local app = new_app()
        for _, text in ipairs{"2024-01-15T08:00:00+01:00",
            "2024-01-15T08:00:00.000Z", "2023-02-29T08:00:00Z",
            "2024-02-30T08:00:00Z", "2024-01-15 08:00:00Z",
            "2024-01-15T08:00Z", "2024-01-15t08:00:00z",
            "2024-13-01T08:00:00Z", "2024-01-15T24:00:00Z",
            "2024-01-15T08:00:60Z", "20240115T080000Z"} do
          local _, _, _, doc = call(app, "POST", "/activities/planning",
            {periods = {{startTime = text, endTime = "2024-01-15T09:00:00Z"}},
              activities = {5}, agents = {1}})
          assert.equal("The json supplied is invalid: periods array item "
            .. "startTime: string format ISO 8601 UTC", doc.info, text)
        end
      end)

    it("accepts any Content-Type and a leap day", function()
      local app = new_app()
      local status = app:handle{method = "POST",
        path = "/api/v3/activities/planning",
        headers = {["kiamo-api-token"] = FULL,
          ["content-type"] = "text/plain"},
        body = json.encode{periods = {{startTime = "2024-02-29T23:45:00Z",
          endTime = "2024-03-01T00:15:00Z"}}, activities = {5}, agents = {1}}}
      assert.equal(200, status)
    end)

    it("lets POST ignore team and group", function()
      local app = new_app()
      local status = call(app, "POST", "/activities/planning",
        {periods = {GOOD_PERIOD}, activities = {5}, agents = {1},
          team = "x", group = 999})
      assert.equal(200, status)
    end)
  end)

  describe("planning model", function()
    it("answers POST with one entry per period, activity and agent",
      function()
        local app = new_app()
        local status, headers, body = call(app, "POST", "/activities/planning",
          {periods = {period("10:00:59", "11:00:30"), period("08:00:00",
            "08:15:00"), period("10:00:00", "11:00:00")},
            activities = {7, 5, 7}, agents = {3, 1, 3}})
        assert.equal(200, status)
        assert.equal("application/json", headers["Content-Type"])
        local expected = {}
        for _, p in ipairs{{"10:00", "11:00"}, {"08:00", "08:15"},
            {"10:00", "11:00"}} do
          for _, activity in ipairs{7, 5} do
            for _, agent in ipairs{3, 1} do
              expected[#expected + 1] = string.format('{"period":{"startTime'
                .. '":"2024-01-15T%s:00Z","endTime":"2024-01-15T%s:00Z"},'
                .. '"activity":%d,"agent":%d}', p[1], p[2], activity, agent)
            end
          end
        end
        assert.equal('{"data":[' .. table.concat(expected, ",")
          .. '],"meta":{}}', body)
      end)

    it("merges touching and overlapping periods into maximal runs",
      function()
        local app = new_app()
        plan(app, {period("08:00:00", "09:00:00")}, {5}, {1})
        plan(app, {period("09:00:00", "09:30:00")}, {5}, {1})
        plan(app, {period("08:30:00", "10:00:00"),
          period("11:00:00", "12:00:00")}, {5}, {1})
        plan(app, {period("08:15:00", "08:45:00")}, {5}, {1})
        plan(app, {period("13:00:00", "14:00:00")}, {5}, {1})
        plan(app, {period("12:00:00", "13:00:00")}, {5}, {1})
        local list = fetch(app, {periods = {period("00:00:00", "23:45:00")},
          activities = {5}, agents = {1}})
        assert.same({"1/5/08:00-10:00", "1/5/11:00-14:00"}, list)
      end)

    it("clips runs to the requested period", function()
      local app = new_app()
      plan(app, {period("08:00:00", "12:00:00")}, {5}, {1})
      local list = fetch(app, {periods = {period("09:15:00", "10:00:00"),
        period("11:45:00", "13:00:00"), period("12:00:00", "13:00:00")},
        activities = {5}, agents = {1}})
      assert.same({"1/5/09:15-10:00", "1/5/11:45-12:00"}, list)
    end)

    it("orders by period as requested, then activity, agent and start",
      function()
        local app = new_app()
        plan(app, {period("08:00:00", "09:00:00"),
          period("10:00:00", "11:00:00")}, {7, 5}, {3, 1})
        local list = fetch(app, {periods = {period("10:00:00", "12:00:00"),
          period("07:00:00", "12:00:00")}, activities = {7, 5, 6},
          agents = {3, 1, 3}})
        assert.same({
          "1/5/10:00-11:00", "3/5/10:00-11:00",
          "1/7/10:00-11:00", "3/7/10:00-11:00",
          "1/5/08:00-09:00", "1/5/10:00-11:00",
          "3/5/08:00-09:00", "3/5/10:00-11:00",
          "1/7/08:00-09:00", "1/7/10:00-11:00",
          "3/7/08:00-09:00", "3/7/10:00-11:00",
        }, list)
      end)

    it("reads every activity when activities is empty", function()
      local app = new_app()
      plan(app, {period("08:00:00", "09:00:00")}, {7, 6, 5}, {2})
      local list = fetch(app, {periods = {period("08:00:00", "09:00:00")},
        activities = json.array{}, agents = {2}})
      assert.same({"2/5/08:00-09:00", "2/6/08:00-09:00", "2/7/08:00-09:00"},
        list)
    end)

    it("removes on DELETE only the quarter hours inside the periods",
      function()
        local app = new_app()
        plan(app, {period("08:00:00", "12:00:00")}, {5, 6}, {1, 2})
        local status, headers, body = call(app, "DELETE",
          "/activities/planning", {periods = {period("09:00:00", "10:00:00"),
            period("11:45:00", "13:00:00")}, activities = {5}, agents = {1}})
        assert.equal(204, status)
        assert.equal("", body)
        assert.is_nil(headers["Content-Type"])
        local list = fetch(app, {periods = {period("00:00:00", "23:45:00")},
          activities = json.array{}, agents = {1, 2}})
        assert.same({"1/5/08:00-09:00", "1/5/10:00-11:45",
          "2/5/08:00-12:00", "1/6/08:00-12:00", "2/6/08:00-12:00"}, list)
        call(app, "DELETE", "/activities/planning",
          {periods = {period("00:00:00", "23:45:00")},
            activities = json.array{}, group = 1})
        assert.same({}, (fetch(app, {periods = {period("00:00:00",
          "23:45:00")}, activities = json.array{}, agents = {1, 2}})))
      end)

    it("selects the agents of a team or group when the request is served",
      function()
        local app = new_app()
        plan(app, {period("08:00:00", "09:00:00")}, {5}, {1, 2, 3, 4})
        local body = {periods = {period("08:00:00", "09:00:00")},
          activities = {5}, team = 10}
        assert.same({"1/5/08:00-09:00", "3/5/08:00-09:00"}, (fetch(app, body)))
        assert.equal(200, (call(app, "PATCH", "/agents/4", {team = 10})))
        assert.equal(200, (call(app, "PATCH", "/agents/1", {team = 11})))
        assert.same({"3/5/08:00-09:00", "4/5/08:00-09:00"}, (fetch(app, body)))
        body.team, body.group = nil, 2
        assert.same({"3/5/08:00-09:00", "4/5/08:00-09:00"}, (fetch(app, body)))
      end)

    it("deletes an agent's planning with the agent", function()
      local app = new_app()
      plan(app, {period("08:00:00", "09:00:00")}, {5}, {3, 4})
      assert.equal(201, (call(app, "DELETE", "/agents/3")))
      assert.same({"4/5/08:00-09:00"}, (fetch(app, {periods = {
        period("08:00:00", "09:00:00")}, activities = {5}, group = 2})))
    end)

    it("plans long periods cheaply, as runs", function()
      local app = new_app()
      local week = {startTime = "2024-01-01T00:00:00Z",
        endTime = "2025-01-01T00:00:00Z"}
      plan(app, {week}, {5, 6, 7}, {1, 2, 3, 4})
      local list = fetch(app, {periods = {week}, activities = json.array{},
        group = 1})
      assert.equal(6, #list)
      assert.equal("1/5/00:00-00:00", list[1])
    end)

    it("answers a POST of 50,000 entries in well under 2 s", function()
      local f = fixture()
      local ids = {}
      for i = 1, 2000 do
        ids[i] = 100 + i
        f.agents[#f.agents + 1] = {id = 100 + i, last_name = "Bulk" .. i,
          login = "bulk" .. i, group = 1 + i % 2}
      end
      f.activities = {{id = 1, label = "a"}, {id = 2, label = "b"},
        {id = 3, label = "c"}, {id = 4, label = "d"}, {id = 5, label = "e"}}
      local state_file = os.tmpname()
      os.remove(state_file)
      finally(function()
        os.remove(state_file)
      end)
      local app = new_app{fixture = f, state_file = state_file}
      local periods = {}
      for day = 1, 5 do
        periods[day] = {startTime = string.format("2024-03-%02dT08:00:00Z",
          day + 3), endTime = string.format("2024-03-%02dT17:30:00Z", day + 3)}
      end
      local body = json.encode{periods = periods, activities = {1, 2, 3, 4, 5},
        agents = ids}
      local started = os.clock()
      local status, _, text = app:handle{method = "POST",
        path = "/api/v3/activities/planning",
        headers = {["kiamo-api-token"] = FULL}, body = body}
      local elapsed = os.clock() - started
      assert.equal(200, status)
      assert.equal(50000, #json.decode(text).data)
      assert.is_true(elapsed < 1, "took " .. elapsed .. " s")
    end)
  end)

  describe("pagination", function()
    -- An app with `count` entries for agent 1 and activity 5 on a day.
    local function paged_app(count, options)
      local app = new_app(options)
      local periods = {}
      for i = 0, count - 1 do
        local minutes = i * 30
        periods[#periods + 1] = {
          startTime = string.format("2024-01-15T%02d:%02d:00Z",
            minutes // 60 % 24, minutes % 60),
          endTime = string.format("2024-01-15T%02d:%02d:00Z",
            minutes // 60 % 24, minutes % 60 + 15),
        }
      end
      if count > 0 then plan(app, periods, {5}, {1}) end
      return app
    end
    local BODY = {periods = {period("00:00:00", "23:45:00")},
      activities = {5}, agents = {1}}

    local function page(app, query, body, token)
      local status, _, text, doc = call(app, "GET", "/activities/planning",
        body or BODY, token, query)
      return status, doc, text
    end

    it("pages with per_page and next_id until next is null", function()
      local app = paged_app(45)
      local status, doc = page(app, "per_page=20")
      assert.equal(200, status)
      local cursor = doc.meta.cursor
      assert.equal(20, cursor.count)
      assert.equal(20, #doc.data)
      assert.equal("string", type(cursor.current))
      assert.equal(json.null, cursor.prev)
      assert.equal("string", type(cursor.next))
      local first_current = cursor.current
      local seen = #doc.data
      status, doc = page(app, "per_page=20&next_id=" .. cursor.next)
      assert.equal(200, status)
      assert.equal(20, doc.meta.cursor.count)
      assert.equal(first_current, doc.meta.cursor.prev)
      assert.equal("13:00:00", doc.data[7].period.startTime:sub(12, 19))
      seen = seen + #doc.data
      status, doc = page(app, "next_id=" .. doc.meta.cursor.next
        .. "&per_page=20")
      assert.equal(200, status)
      assert.equal(5, doc.meta.cursor.count)
      assert.equal(json.null, doc.meta.cursor.next)
      assert.equal("string", type(doc.meta.cursor.prev))
      assert.equal(45, seen + #doc.data)
    end)

    it("has next null on a page that ends exactly with the last entry",
      function()
        local app = paged_app(20)
        local _, doc = page(app, "per_page=10")
        local _, last = page(app, "per_page=10&next_id="
          .. doc.meta.cursor.next)
        assert.equal(10, last.meta.cursor.count)
        assert.equal(json.null, last.meta.cursor.next)
      end)

    it("answers 100 entries by default and an empty page when none",
      function()
        local app = paged_app(48)
        plan(app, {{startTime = "2024-01-16T00:00:00Z",
          endTime = "2024-01-17T00:00:00Z"}}, {5}, {2, 3, 4})
        local body = {periods = {{startTime = "2024-01-15T00:00:00Z",
          endTime = "2024-01-17T00:00:00Z"}}, activities = {5},
          agents = {1, 2, 3, 4}}
        local status, doc = page(app, nil, body)
        assert.equal(200, status)
        assert.equal(51, doc.meta.cursor.count)
        assert.equal(json.null, doc.meta.cursor.next)
        local _, empty, text = page(new_app(), nil)
        assert.equal(0, empty.meta.cursor.count)
        assert.equal(json.null, empty.meta.cursor.next)
        assert.matches('^{"data":%[%],"meta":{"cursor":{"current":"[^"]+",'
          .. '"prev":null,"next":null,"count":0}}}$', text)
      end)

    it("refuses a per_page that is not 1 to 1000 in digits", function()
      local app = paged_app(3)
      for _, value in ipairs{"0", "1001", "abc", "-1", "1.5", "", "+5",
          "1e2", "99999999999999999999", " 5"} do
        local status, _, text = page(app, "per_page=" .. value)
        assert.equal(400, status, value)
        assert.equal('{"code":"ERR_1000","info":"The json supplied is '
          .. 'invalid: per_page: int"}', text)
      end
      assert.equal(1, select(2, page(app, "per_page=1")).meta.cursor.count)
      assert.equal(3, select(2, page(app, "per_page=1000")).meta.cursor.count)
    end)

    it("validates the body, then per_page, then next_id", function()
      local app = paged_app(3)
      local _, doc = page(app, "per_page=0&next_id=nothing",
        {periods = json.array{}})
      assert.equal("The json supplied is invalid: periods array empty",
        doc.info)
      _, doc = page(app, "per_page=0&next_id=nothing")
      assert.equal("The json supplied is invalid: per_page: int", doc.info)
      local status, _, text = page(app, "per_page=2&next_id=nothing")
      assert.equal(400, status)
      assert.equal('{"code":"ERR_1020","info":"Arguments are invalid: '
        .. 'next_id: no match"}', text)
    end)

    it("binds a next_id to the request it came from", function()
      local app = paged_app(30)
      local _, doc = page(app, "per_page=10")
      local next_id = doc.meta.cursor.next
      local other = {periods = {period("00:00:00", "23:45:00")},
        activities = json.array{}, agents = {1}}
      local status, err = page(app, "per_page=10&next_id=" .. next_id, other)
      assert.equal(400, status)
      assert.equal("Arguments are invalid: next_id: no match", err.info)
      status = page(app, "per_page=10&next_id=" .. next_id, nil, READ)
      assert.equal(400, status)
      status = page(app, "per_page=10&next_id=" .. next_id)
      assert.equal(200, status)
      status = page(app, "per_page=10&next_id=" .. next_id .. "0")
      assert.equal(400, status)
    end)

    it("expires cursors", function()
      local now = 1000
      local app = paged_app(30, {clock = function() return now end})
      local _, doc = page(app, "per_page=10")
      now = now + 3600
      local status, err = page(app, "per_page=10&next_id="
        .. doc.meta.cursor.next)
      assert.equal(400, status)
      assert.equal("Arguments are invalid: next_id: no match", err.info)
    end)

    it("keeps a bounded number of snapshots", function()
      local app = paged_app(4)
      local _, first = page(app, "per_page=2")
      for _ = 1, 1100 do page(app, "per_page=2") end
      local status = page(app, "per_page=2&next_id="
        .. first.meta.cursor.next)
      assert.equal(400, status)
    end)
  end)

  describe("agents", function()
    it("reads an agent exactly as API.md shows it", function()
      local app = assert(mock.new())
      local status, headers, body = call(app, "GET", "/agents/30", nil,
        "68d27ac06e53fef962c49a4b0d18691019c3a31a")
      assert.equal(200, status)
      assert.equal("application/json", headers["Content-Type"])
      assert.equal('{"id":30,"first_name":"John","last_name":"Smith",'
        .. '"login":"0005","email":"js@example.com","language":"en_UK",'
        .. '"timezone":"Europe/Paris","group":{"id":2,"label":'
        .. '"Aftersales Group"},"team":{"id":"","label":""},"avatar":'
        .. '{"color":"grey","url":null},"preferences":[]}', body)
    end)

    it("creates an agent with API.md's defaults", function()
      local app = new_app()
      local status, headers, body = call(app, "POST", "/agents",
        {last_name = "Eve", login = "eve", group = 2})
      assert.equal(201, status)
      assert.equal("application/json", headers["Content-Type"])
      assert.equal('{"id":5,"first_name":"","last_name":"Eve","login":"eve",'
        .. '"email":"","language":"fr_FR","timezone":"Europe/London",'
        .. '"group":{"id":2,"label":"Aftersales Group"},"team":{"id":"",'
        .. '"label":""},"avatar":{"color":"grey","url":null},'
        .. '"preferences":[]}', body)
      local _, _, again = call(app, "GET", "/agents/5")
      assert.equal(body, again)
    end)

    it("creates an agent with every field and never returns the password",
      function()
        local app = new_app()
        local status, _, body, doc = call(app, "POST", "/agents",
          {last_name = "Kiamo-Name", first_name = "Kim", password = "s3cret",
            must_update_password = "true", email = "kim@example.com",
            login = "KiamoLogin", group = 1, team = 11, language = "de_DE",
            timezone_type = "custom", timezone_code = "Europe/Lisbon",
            unknown_field = {1, 2}})
        assert.equal(201, status)
        assert.equal(5, doc.id)
        assert.equal("Kim", doc.first_name)
        assert.equal("Europe/Lisbon", doc.timezone)
        assert.equal(11, doc.team.id)
        assert.equal("Team B", doc.team.label)
        assert.equal("de_DE", doc.language)
        assert.is_nil(body:find("s3cret", 1, true))
        assert.is_nil(body:find("password", 1, true))
      end)

    it("needs a JSON object body", function()
      local app = new_app()
      for _, body in ipairs{false, "", "[]", "{", '"x"'} do
        local status, _, _, doc = call(app, "POST", "/agents",
          body or nil)
        assert.equal(400, status)
        assert.equal("ERR_1000", doc.code)
        assert.equal("The json supplied is invalid", doc.info)
        status, _, _, doc = call(app, "PATCH", "/agents/1", body or nil)
        assert.equal(400, status)
        assert.equal("The json supplied is invalid", doc.info)
      end
    end)

    local REQUIRED = {last_name = "Eve", login = "eve", group = 1}
    local function with(fields)
      local body = {}
      for k, v in pairs(REQUIRED) do body[k] = v end
      for k, v in pairs(fields) do body[k] = v end
      return body
    end

    local FIELD_CASES = {
      {{}, "ERR_1010", "Json attributes are missing: last_name"},
      {{login = 5, group = "x"}, "ERR_1010",
        "Json attributes are missing: last_name"},
      {{last_name = "", login = "eve", group = 1}, "ERR_1010",
        "Json attributes are missing: last_name"},
      {{last_name = "Eve", group = "x"}, "ERR_1010",
        "Json attributes are missing: login"},
      {{last_name = 5, login = "", group = 1}, "ERR_1010",
        "Json attributes are missing: login"},
      {{last_name = 5, login = 6}, "ERR_1010",
        "Json attributes are missing: group"},
      {with{last_name = 5, login = 6}, "ERR_1000",
        "The json supplied is invalid: last_name: string"},
      {with{last_name = json.null}, "ERR_1000",
        "The json supplied is invalid: last_name: string"},
      {with{login = 6, group = "x"}, "ERR_1000",
        "The json supplied is invalid: login: string"},
      {with{login = "arden", group = 999}, "ERR_1020",
        "Arguments are invalid: login: already used"},
      {with{group = "1", password = 5}, "ERR_1000",
        "The json supplied is invalid: group: int"},
      {with{group = 1.0}, "ERR_1000",
        "The json supplied is invalid: group: int"},
      {with{group = json.null}, "ERR_1000",
        "The json supplied is invalid: group: int"},
      {with{group = 3, password = 5}, "ERR_1020",
        "Arguments are invalid: group: no match"},
      {with{password = 5, must_update_password = "yes"}, "ERR_1000",
        "The json supplied is invalid: password: string"},
      {with{must_update_password = "yes", email = 5}, "ERR_1000",
        "The json supplied is invalid: must_update_password: boolean"},
      {with{must_update_password = 1}, "ERR_1000",
        "The json supplied is invalid: must_update_password: boolean"},
      {with{email = 5, team = "x"}, "ERR_1000",
        "The json supplied is invalid: email: string"},
      {with{team = "10", language = 5}, "ERR_1000",
        "The json supplied is invalid: team: int"},
      {with{team = 12, language = 5}, "ERR_1020",
        "Arguments are invalid: team: no match"},
      {with{language = 5, timezone_type = 5}, "ERR_1000",
        "The json supplied is invalid: language: string"},
      {with{language = "xx_XX", timezone_type = 5}, "ERR_1020",
        "Arguments are invalid: language: no match"},
      {with{timezone_type = 5, timezone_code = 5}, "ERR_1000",
        "The json supplied is invalid: timezone_type: string"},
      {with{timezone_type = "moon", timezone_code = 5}, "ERR_1020",
        "Arguments are invalid: timezone_type: no match"},
      {with{timezone_code = 5, first_name = 5}, "ERR_1000",
        "The json supplied is invalid: timezone_code: string"},
      {with{timezone_code = "Mars/Base", first_name = 5}, "ERR_1020",
        "Arguments are invalid: timezone_code: no match"},
      {with{first_name = 5, timezone_type = "custom"}, "ERR_1000",
        "The json supplied is invalid: first_name: string"},
      {with{timezone_type = "custom"}, "ERR_1010",
        "Json attributes are missing: timezone_code"},
    }
    for index, case in ipairs(FIELD_CASES) do
      it(string.format("POST case %d answers %s", index, case[3]), function()
        local app = new_app()
        local status, _, body = call(app, "POST", "/agents", case[1])
        assert.equal(400, status)
        assert.equal(json.encode(json.object{"code", case[2],
          "info", case[3]}), body)
      end)
    end

    it("checks PATCH fields in the same order, on the resulting agent",
      function()
        local app = new_app()
        local function patch(body)
          local status, _, _, doc = call(app, "PATCH", "/agents/1", body)
          return status, doc
        end
        local _, status, doc
        status, doc = patch{last_name = ""}
        assert.equal(400, status)
        assert.equal("Json attributes are missing: last_name", doc.info)
        _, doc = patch{login = "", last_name = 5}
        assert.equal("Json attributes are missing: login", doc.info)
        _, doc = patch{group = json.null}
        assert.equal("The json supplied is invalid: group: int", doc.info)
        _, doc = patch{login = "brook"}
        assert.equal("Arguments are invalid: login: already used", doc.info)
        _, doc = patch{timezone_type = "custom"}
        assert.equal("Json attributes are missing: timezone_code", doc.info)
        _, doc = patch{team = "x", email = 5}
        assert.equal("The json supplied is invalid: email: string", doc.info)
        status, doc = patch{login = "arden", last_name = "Arden-Two"}
        assert.equal(200, status)
        assert.equal("Arden-Two", doc.last_name)
        status, doc = patch{}
        assert.equal(200, status)
        assert.equal("arden", doc.login)
      end)

    it("compares logins exactly", function()
      local app = new_app()
      assert.equal(201, (call(app, "POST", "/agents",
        {last_name = "X", login = "Arden", group = 1})))
      assert.equal(201, (call(app, "POST", "/agents",
        {last_name = "X", login = "arden ", group = 1})))
      assert.equal(400, (call(app, "POST", "/agents",
        {last_name = "X", login = "arden", group = 1})))
    end)

    it("frees a login when its agent changes it or is deleted", function()
      local app = new_app()
      assert.equal(200, (call(app, "PATCH", "/agents/1", {login = "other"})))
      assert.equal(200, (call(app, "PATCH", "/agents/2", {login = "arden"})))
      assert.equal(201, (call(app, "DELETE", "/agents/2")))
      assert.equal(201, (call(app, "POST", "/agents",
        {last_name = "X", login = "arden", group = 1})))
    end)

    it("falls back to the group's zone, the team's, or a custom code",
      function()
        local app = new_app()
        local function zone(id)
          return select(4, call(app, "GET", "/agents/" .. id)).timezone
        end
        assert.equal("Europe/Paris", zone(1))
        call(app, "PATCH", "/agents/1", {timezone_type = "team"})
        assert.equal("Europe/Lisbon", zone(1))
        call(app, "PATCH", "/agents/4", {timezone_type = "team"})
        assert.equal("Europe/London", zone(4))
        call(app, "PATCH", "/agents/1", {team = json.null})
        assert.equal("Europe/Paris", zone(1))
        call(app, "PATCH", "/agents/1", {timezone_code = "Europe/Berlin"})
        assert.equal("Europe/Paris", zone(1))
        assert.equal(200, (call(app, "PATCH", "/agents/1",
          {timezone_type = "custom"})))
        assert.equal("Europe/Berlin", zone(1))
        call(app, "PATCH", "/agents/1", {group = 2, timezone_type = "group"})
        assert.equal("Europe/London", zone(1))
      end)

    it("removes the team on team null, in POST and PATCH", function()
      local app = new_app()
      local _, _, _, doc = call(app, "PATCH", "/agents/1", {team = json.null})
      assert.same({id = "", label = ""}, doc.team)
      _, _, _, doc = call(app, "POST", "/agents",
        {last_name = "X", login = "x", group = 1, team = json.null})
      assert.same({id = "", label = ""}, doc.team)
    end)

    it("never reuses an id", function()
      local app = new_app()
      local _, _, _, doc = call(app, "POST", "/agents",
        {last_name = "X", login = "x", group = 1})
      assert.equal(5, doc.id)
      assert.equal(201, (call(app, "DELETE", "/agents/5")))
      _, _, _, doc = call(app, "POST", "/agents",
        {last_name = "Y", login = "y", group = 1})
      assert.equal(6, doc.id)
    end)

    it("deletes with 201 and no body, then answers 404", function()
      local app = new_app()
      local status, headers, body = call(app, "DELETE", "/agents/2")
      assert.equal(201, status)
      assert.equal("", body)
      assert.is_nil(headers["Content-Type"])
      status, headers, body = call(app, "GET", "/agents/2")
      assert.equal("application/json", headers["Content-Type"])
      assert.equal(404, status)
      assert.equal('{"info":"The agent does not exist"}', body)
    end)

    it("answers 404 for an id that is not a positive integer in digits",
      function()
        local app = new_app()
        for _, id in ipairs{"01", "0", "-1", "abc", "1.0", "1e0", "%31x",
            "99999999999999999999", "999", " 1"} do
          for _, method in ipairs{"GET", "PATCH", "DELETE"} do
            local status, _, body = call(app, method, "/agents/" .. id, {})
            assert.equal(404, status, method .. " " .. id)
            assert.equal('{"info":"The agent does not exist"}', body)
          end
        end
        assert.equal(200, (call(app, "GET", "/agents/%31")))
      end)
  end)
end)

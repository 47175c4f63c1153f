-- Specs for the planning methods of kiamo sessions and planning entries,
-- against kiamo-mock over HTTP.

local kiamo = require "kiamo"

-- math.type where there is one; LuaJIT has no integer type, and there an
-- integral number counts as an integer.
local math_type = require("kiamo.compat").math_type
local mock_server = require "support.mock_server"

local TOKEN = "0123456789abcdef0123456789abcdef01234567"
local DAY = {"2031-03-03T00:00:00Z", "2031-03-04T00:00:00Z"}

local function raises(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok)
  err = tostring(err)
  assert.truthy(err:find(pattern, 1, true),
    "expected an error containing " .. pattern .. ", got " .. err)
  return err
end

local function summary(entry)
  return string.format("%s %s %d %d", entry.period.startTime,
    entry.period.endTime, entry.activity, entry.agent)
end

describe("kiamo.Session planning", function()
  local server, s, events
  before_each(function()
    server = assert(mock_server.start{tokens = {TOKEN}})
    events = {}
    s = kiamo.session{url = server.url, token = TOKEN,
      on_event = function(e) events[#events + 1] = e end}
  end)
  after_each(function()
    s:close()
    server:stop()
  end)

  local function plan(agents)
    return assert(s:create_planning{
      periods = {kiamo.period("2031-03-03T09:00:00Z", "2031-03-03T10:00Z"),
                 {"2031-03-03T14:00:00Z", "2031-03-03T15:00:00Z"}},
      activities = {2, 3}, agents = agents or {1, 2}})
  end

  describe("create_planning", function()
    it("answers one entry per period, activity and agent", function()
      local entries = plan()
      assert.equal(8, #entries)
      assert.equal("2031-03-03T09:00:00Z 2031-03-03T10:00:00Z 2 1",
        summary(entries[1]))
      assert.equal("2031-03-03T09:00:00Z 2031-03-03T10:00:00Z 2 2",
        summary(entries[2]))
      assert.equal("2031-03-03T14:00:00Z 2031-03-03T15:00:00Z 3 2",
        summary(entries[8]))
      assert.is_true(kiamo.is_entry(entries[1]))
      assert.equal("integer", math_type(entries[1].agent))
    end)

    it("accepts periods from kiamo.schedule and agents as objects",
      function()
        local agent = assert(s:agent(5))
        local entries = assert(s:create_planning{
          periods = kiamo.schedule{from = "2031-03-03", to = "2031-03-05",
            days = {"mon", "wed"}, slots = {{"08:00", "09:00"}},
            utc_offset = "+02:00"},
          activities = {4}, agents = {agent}})
        assert.equal(2, #entries)
        assert.equal("2031-03-05T06:00:00Z 2031-03-05T07:00:00Z 4 5",
          summary(entries[2]))
      end)

    it("returns the server's error for an unknown id", function()
      local entries, err = s:create_planning{periods = {DAY},
        activities = {999}, agents = {1}}
      assert.is_nil(entries)
      assert.equal("ERR_1020", err.code)
      assert.equal("Arguments are invalid: activities array item: no match",
        err.info)
      assert.equal("kiamo: 400 ERR_1020 Arguments are invalid: activities "
        .. "array item: no match (POST /api/v3/activities/planning)",
        tostring(err))
    end)

    it("raises on misuse before any request, naming the field", function()
      raises("create_planning: periods[1]: start \"2031-03-03T09:10:00Z\" "
        .. "is not on a quarter hour", s.create_planning, s, {
          periods = {{"2031-03-03T09:10:00Z", "2031-03-03T10:00:00Z"}},
          activities = {2}, agents = {1}})
      raises("periods must not be empty", s.create_planning, s,
        {periods = {}, activities = {2}, agents = {1}})
      raises("activities[2] must be a positive integer, got \"x\"",
        s.create_planning, s, {periods = {DAY}, activities = {2, "x"},
        agents = {1}})
      raises("agents must be a list of ids, got number", s.create_planning,
        s, {periods = {DAY}, activities = {2}, agents = 1})
      raises("agents is missing", s.create_planning, s,
        {periods = {DAY}, activities = {2}})
      raises('unknown field "team"', s.create_planning, s,
        {periods = {DAY}, activities = {2}, team = 1})
      raises("argument must be a table", s.create_planning, s, nil)
      assert.equal(0, #events)
    end)
  end)

  describe("get_planning", function()
    it("reads one page with its cursor", function()
      plan()
      local page = assert(s:get_planning{periods = {DAY},
        activities = {}, agents = {1, 2}, per_page = 3})
      assert.equal(3, #page.data)
      assert.equal(3, page.cursor.count)
      assert.is_string(page.cursor.current)
      assert.is_nil(page.cursor.prev)
      assert.is_string(page.cursor.next)
      local second = assert(s:get_planning{periods = {DAY},
        activities = {}, agents = {1, 2}, per_page = 3,
        next_id = page.cursor.next})
      assert.equal(3, #second.data)
      assert.not_equal(summary(page.data[1]), summary(second.data[1]))
      assert.equal(server.url .. "/api/v3/activities/planning?next_id="
        .. page.cursor.next .. "&per_page=3", events[#events].url)
    end)

    it("selects by team or group, and defaults to all activities",
      function()
        plan({1, 2, 3})
        -- agent 1 is in team 2 and group 2, agent 3 in team 15, group 1
        local by_team = assert(s:get_planning{periods = {DAY}, team = 2})
        assert.equal(4, #by_team.data)
        for _, entry in ipairs(by_team.data) do
          assert.equal(1, entry.agent)
        end
        local by_group = assert(s:get_planning{periods = {DAY},
          group = 1})
        assert.equal(4, #by_group.data)
        assert.equal(3, by_group.data[1].agent)
        assert.is_nil(by_group.cursor.next)
      end)

    it("names the pagination parameters as the session says", function()
      local other = kiamo.session{url = server.url, token = TOKEN,
        per_page_param = "limit", cursor_param = "after",
        on_event = function(e) events[#events + 1] = e end}
      plan()
      local page = assert(other:get_planning{periods = {DAY},
        agents = {1}, per_page = 1, next_id = "abc"})
      assert.equal(server.url .. "/api/v3/activities/planning?after=abc"
        .. "&limit=1", events[#events].url)
      -- the emulator reads per_page, so it answers its default page
      assert.equal(4, #page.data)
    end)

    it("returns the server's error for a cursor it does not know",
      function()
        local page, err = s:get_planning{periods = {DAY}, agents = {1},
          next_id = "nope"}
        assert.is_nil(page)
        assert.equal("Arguments are invalid: next_id: no match", err.info)
      end)

    it("raises when not exactly one of agents, team, group is given",
      function()
        raises("give exactly one of agents, team, group (got none)",
          s.get_planning, s, {periods = {DAY}})
        raises("(got agents, team)", s.get_planning, s,
          {periods = {DAY}, agents = {1}, team = 2})
        raises("per_page must be a positive integer, got 0",
          s.get_planning, s, {periods = {DAY}, team = 2, per_page = 0})
        raises("team must be a positive integer", s.get_planning, s,
          {periods = {DAY}, team = "two"})
      end)
  end)

  describe("each_planning", function()
    it("walks every entry of every page in order", function()
      local planned = plan({1, 2, 3})
      local expected = {}
      for _, entry in ipairs(assert(s:get_planning{periods = {DAY},
          agents = {1, 2, 3}, per_page = 1000}).data) do
        expected[#expected + 1] = summary(entry)
      end
      assert.equal(#planned, #expected)
      local before = #events
      local seen, pages = {}, {}
      for entry, page in s:each_planning{periods = {DAY},
          activities = {}, agents = {1, 2, 3}, per_page = 5} do
        seen[#seen + 1] = summary(entry)
        pages[page] = true
      end
      assert.same(expected, seen)
      assert.equal(3, #events - before)   -- 12 entries, 5 a page
      local count = 0
      for _ in pairs(pages) do count = count + 1 end
      assert.equal(3, count)
    end)

    it("can be left with break and started again", function()
      plan()
      local before = #events
      local first, n = {}, 0
      for entry in s:each_planning{periods = {DAY}, agents = {1, 2},
          per_page = 1} do
        n = n + 1
        first[n] = summary(entry)
        if n == 2 then break end
      end
      assert.equal(2, #events - before)
      n = 0
      for entry in s:each_planning{periods = {DAY}, agents = {1, 2},
          per_page = 1} do
        n = n + 1
        if first[n] then assert.equal(first[n], summary(entry)) end
      end
      assert.equal(8, n)
    end)

    it("ends at once when nothing is planned", function()
      for _ in s:each_planning{periods = {DAY}, agents = {1}} do
        error("no entry expected")
      end
      assert.equal(1, #events)
    end)

    it("raises the error of a page that fails mid-way", function()
      plan()
      local n = 0
      local ok, err = pcall(function()
        for _ in s:each_planning{periods = {DAY}, agents = {1, 2},
            per_page = 2} do
          n = n + 1
          if n == 2 then server:stop() end
        end
      end)
      assert.is_false(ok)
      assert.equal(kiamo.Error, getmetatable(err))
      assert.equal("connect", err.kind)
      assert.equal(2, n)
    end)

    it("raises a page's http error", function()
      local ok, err = pcall(function()
        for _ in s:each_planning{periods = {DAY}, agents = {999}} do
          error("no entry expected")
        end
      end)
      assert.is_false(ok)
      assert.equal("Arguments are invalid: agents array item: no match",
        err.info)
    end)
  end)

  describe("delete_planning", function()
    it("removes the planned quarter hours and answers true", function()
      plan()
      assert.is_true(s:delete_planning{periods = {{"2031-03-03T09:30:00Z",
        "2031-03-03T14:30:00Z"}}, activities = {2}, agents = {1, 2}})
      local left = {}
      for entry in s:each_planning{periods = {DAY}, agents = {1}} do
        left[#left + 1] = summary(entry)
      end
      assert.same({"2031-03-03T09:00:00Z 2031-03-03T09:30:00Z 2 1",
                   "2031-03-03T14:30:00Z 2031-03-03T15:00:00Z 2 1",
                   "2031-03-03T09:00:00Z 2031-03-03T10:00:00Z 3 1",
                   "2031-03-03T14:00:00Z 2031-03-03T15:00:00Z 3 1"}, left)
    end)

    it("requires activities, and returns the server's errors", function()
      raises("activities is missing", s.delete_planning, s,
        {periods = {DAY}, agents = {1}})
      local ok, err = s:delete_planning{periods = {DAY}, activities = {},
        group = 99}
      assert.is_nil(ok)
      assert.equal("Arguments are invalid: group: no match", err.info)
    end)
  end)

  describe("entries", function()
    it("read as fields, print, and cannot be written", function()
      local entry = plan()[1]
      assert.equal("2031-03-03T09:00:00Z", entry.period.startTime)
      assert.equal(2, entry.activity)
      assert.equal("kiamo.PlanningEntry 2031-03-03T09:00:00Z.."
        .. "2031-03-03T10:00:00Z activity 2 agent 1", tostring(entry))
      local keys = {}
      -- LuaJIT's pairs knows no __pairs: there entry:fields() is the way
      for k in pairs(rawget(_G, "jit") and entry:fields() or entry) do
        keys[#keys + 1] = k
      end
      table.sort(keys)
      assert.same({"activity", "agent", "period"}, keys)
      raises("read-only", function() entry.agent = 3 end)
    end)

    it("delete their own period, activity and agent", function()
      local entries = plan()
      assert.is_true(entries[4]:delete())   -- 09:00-10:00, activity 3, agent 2
      local left = {}
      for entry in s:each_planning{periods = {DAY}, agents = {2}} do
        left[#left + 1] = summary(entry)
      end
      assert.same({"2031-03-03T09:00:00Z 2031-03-03T10:00:00Z 2 2",
                   "2031-03-03T14:00:00Z 2031-03-03T15:00:00Z 2 2",
                   "2031-03-03T14:00:00Z 2031-03-03T15:00:00Z 3 2"}, left)
    end)
  end)
end)

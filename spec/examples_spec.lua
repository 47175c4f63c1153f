-- The examples run as commands against a real kiamo-mock; their effects
-- are checked through the API, and the requests they made through the
-- emulator's access log.

local kiamo = require "kiamo"
local mock_server = require "support.mock_server"

local ROOT = mock_server.ROOT
local TOKEN = "68d27ac06e53fef962c49a4b0d18691019c3a31a"
local WEEK = "2026-12-07"
local WEEK_START = 1796601600        -- 2026-12-07T00:00:00Z
local UTC_OFFSET_SECONDS = 3600      -- the schedules below are at +01:00
local DAY = 24 * 3600
local WEEKDAY_INDEX = {mon = 0, tue = 1, wed = 2, thu = 3, fri = 4,
                       sat = 5, sun = 6}
local EXPORT_HEADER =
  "login,first_name,last_name,email,group,team,language,status\n"

package.path = ROOT .. "/examples/lib/?.lua;" .. package.path
local csvfile = require "csvfile"
local shell = require "support.shell"


local quote = shell.quote
local read_file = shell.read_file
local write_file = shell.write_file


local function temporary_directory()
  local pipe = assert(io.popen("mktemp -d"))
  local dir = pipe:read("l")
  pipe:close()
  return dir
end


-- Runs examples/<name> with the words of args; returns its exit code and
-- what it printed (stdout and stderr together).
local function run_example(server, name, args, env)
  local words = {
    "cd", quote(ROOT), "&&", "env",
    "LUA_PATH=" .. quote(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;"),
    "LUA_CPATH=" .. quote(ROOT .. "/build/lua5.4/?.so;;"),
    "KIAMO_URL=" .. quote(server.url), "KIAMO_API_TOKEN=" .. TOKEN,
    "KIAMO_PROGRESS=" .. ((env or {}).progress or "plain"),
    "lua5.4", quote("examples/" .. name),
  }
  for _, word in ipairs(args or {}) do
    words[#words + 1] = quote(word)
  end
  local pipe = assert(io.popen(table.concat(words, " ") .. " 2>&1"))
  local output = pipe:read("a")
  local _, _, code = pipe:close()
  return code, output
end


-- The requests the server logged from `mark` (a byte offset of its
-- stderr) on, as a list of "METHOD /path" strings. A request of our own
-- is made and waited for first, so that every earlier line is written.
local markers = 0
local function requests_since(server, session, mark)
  markers = markers + 1
  local marker = "spec-marker-" .. markers
  assert.is_nil(session:host(marker))
  local log
  for _ = 1, 200 do
    log = server:stderr()
    if log:find(marker, mark + 1, true) then break end
    os.execute("sleep 0.01")
  end
  local requests = {}
  for method, target in log:sub(mark + 1):gmatch("(%u+) (%S+) %d+") do
    if not target:find(marker, 1, true) then
      requests[#requests + 1] = method .. " " .. target:gsub("%?.*", "")
    end
  end
  return requests
end


local function count_methods(requests)
  local counts = {GET = 0, POST = 0, PATCH = 0, DELETE = 0}
  for _, request in ipairs(requests) do
    local method = request:match("^%u+")
    counts[method] = (counts[method] or 0) + 1
  end
  return counts
end


-- login -> id from a mapping file, read without the examples' parser.
local function read_mapping(path)
  local text = read_file(path)
  if not text then return nil end
  local mapping = {}
  for login, id in text:gmatch("\n([^,\n]+),(%d+)") do
    mapping[login] = math.tointeger(tonumber(id))
  end
  return mapping
end


-- Splits one CSV line into fields (quoted fields with commas and doubled
-- quotes; no line breaks inside fields), independently of csvfile.
local function split_line(line)
  local fields, pos = {}, 1
  while true do
    if line:sub(pos, pos) == '"' then
      local value, stop = {}, pos + 1
      while true do
        local q = assert(line:find('"', stop, true))
        value[#value + 1] = line:sub(stop, q - 1)
        if line:sub(q + 1, q + 1) == '"' then
          value[#value + 1] = '"'
          stop = q + 2
        else
          pos = q + 1
          break
        end
      end
      fields[#fields + 1] = table.concat(value)
    else
      local stop = line:find(",", pos, true) or #line + 1
      fields[#fields + 1] = line:sub(pos, stop - 1)
      pos = stop
    end
    if line:sub(pos, pos) ~= "," then break end
    pos = pos + 1
  end
  return fields
end


local function read_rows(path)
  local rows, header = {}, nil
  for line in io.lines(path) do
    local fields = split_line(line)
    if not header then
      header = fields
    else
      local row = {}
      for i, name in ipairs(header) do row[name] = fields[i] end
      rows[#rows + 1] = row
    end
  end
  return rows
end


local function team_id(agent)
  return math.tointeger(tonumber(agent.team.id))
end


local function assert_agent_matches(agent, row)
  assert.are.equal(row.login, agent.login)
  assert.are.equal(row.first_name, agent.first_name)
  assert.are.equal(row.last_name, agent.last_name)
  assert.are.equal(row.email, agent.email)
  assert.are.equal(tonumber(row.group), agent.group.id)
  assert.are.equal(tonumber(row.team), team_id(agent))
  assert.are.equal(row.language, agent.language)
end


-- The quarter hours a schedule file asks for, as a set of
-- "agent activity epoch" strings, computed from its rows directly.
local function expected_quarters(schedule_path, mapping)
  local set, count = {}, 0
  for _, row in ipairs(read_rows(schedule_path)) do
    local day = WEEK_START + WEEKDAY_INDEX[row.weekday] * DAY
      - UTC_OFFSET_SECONDS
    local h1, m1 = row.start:match("^(%d+):(%d+)$")
    local h2, m2 = row["end"]:match("^(%d+):(%d+)$")
    local start = day + (h1 * 60 + m1) * 60
    local stop = day + (h2 * 60 + m2) * 60
    if stop <= start then stop = stop + DAY end
    for t = start, stop - 900, 900 do
      local key = string.format("%d %s %d", mapping[row.login],
                                row.activity, t)
      if not set[key] then count = count + 1 end
      set[key] = true
    end
  end
  return set, count
end


-- Seconds since the epoch of a time of December 2026 ("...Z").
local function december_2026(iso)
  local d, hh, mm = iso:match("^2026%-12%-(%d%d)T(%d%d):(%d%d):00Z$")
  assert(d, "unexpected time " .. tostring(iso))
  return WEEK_START + (tonumber(d) - 7) * DAY + (hh * 60 + mm) * 60
end


-- The quarter hours the server has for these agents around the week.
local function planned_quarters(session, agent_ids)
  local set, count = {}, 0
  local list = {}
  for _, id in pairs(agent_ids) do list[#list + 1] = id end
  table.sort(list)
  for first = 1, #list, 100 do
    local chunk = table.move(list, first, math.min(first + 99, #list), 1, {})
    for entry in session:each_planning{
        periods = {{"2026-12-06T00:00:00Z", "2026-12-15T00:00:00Z"}},
        activities = {}, agents = chunk, per_page = 1000} do
      local start = december_2026(entry.period.startTime)
      local stop = december_2026(entry.period.endTime)
      for t = start, stop - 900, 900 do
        local key = string.format("%d %d %d", entry.agent, entry.activity, t)
        if not set[key] then count = count + 1 end
        set[key] = true
      end
    end
  end
  return set, count
end


describe("examples", function()
  local server, session, dir

  before_each(function()
    server = assert(mock_server.start{quiet = false})
    session = kiamo.session{url = server.url, token = TOKEN}
    dir = temporary_directory()
  end)

  after_each(function()
    session:close()
    server:stop()
    os.execute("rm -rf " .. quote(dir))
  end)

  describe("sync_agents.lua", function()
    local export, ids

    local SMALL_EXPORT = EXPORT_HEADER
      .. 'ann.spec,Ann,"Doe, Jr.",ann@example.com,1,2,fr_FR,active\n'
      .. 'bob.spec,"Robert ""Bob""",Stone,bob@example.com,2,,en_UK,active\n'
      .. "cid.spec,Cid,Moss,cid@example.com,3,15,de_DE,active\n"
      .. "dee.spec,Dee,Gone,dee@example.com,1,1,fr_FR,left\n"

    before_each(function()
      export = dir .. "/hr_export.csv"
      ids = dir .. "/hr_export.ids.csv"
      write_file(export, SMALL_EXPORT)
    end)

    local function sync(...)
      return run_example(server, "sync_agents.lua", {...})
    end

    it("creates the active people with the export's fields, one request"
      .. " at a time with --concurrency 1", function()
      local code, output = sync("--concurrency", "1", export)
      assert.are.equal(0, code, output)
      assert.matches("3 created, 0 updated, 0 deleted, 1 unchanged, "
        .. "0 failed", output, 1, true)
      local mapping = read_mapping(ids)
      assert.is_nil(mapping["dee.spec"])
      for _, row in ipairs(read_rows(export)) do
        if row.status == "active" then
          local agent = assert(session:agent(mapping[row.login]))
          assert_agent_matches(agent, row)
        end
      end
    end)

    it("changes nothing on a second run", function()
      assert.are.equal(0, (sync(export)))
      local mapping_before = read_file(ids)
      local mark = #server:stderr()
      local code, output = sync(export)
      assert.are.equal(0, code, output)
      local counts = count_methods(requests_since(server, session, mark))
      assert.are.same({GET = 3, POST = 0, PATCH = 0, DELETE = 0}, counts)
      assert.are.equal(mapping_before, read_file(ids))
      assert.matches("0 created, 0 updated, 0 deleted, 4 unchanged",
        output, 1, true)
    end)

    it("patches a changed row in place, team removal included", function()
      assert.are.equal(0, (sync(export)))
      local before = read_mapping(ids)
      write_file(export, EXPORT_HEADER
        .. 'ann.spec,Ann,"Doe, Jr.",ann@new.example,1,21,fr_FR,active\n'
        .. 'bob.spec,"Robert ""Bob""",Stone,bob@example.com,2,,en_UK,active\n'
        .. "cid.spec,Cid,Moss,cid@example.com,3,,it_IT,active\n"
        .. "dee.spec,Dee,Gone,dee@example.com,1,1,fr_FR,left\n")
      local mark = #server:stderr()
      local code, output = sync(export)
      assert.are.equal(0, code, output)
      local requests = requests_since(server, session, mark)
      local counts = count_methods(requests)
      assert.are.same({GET = 3, POST = 0, PATCH = 2, DELETE = 0}, counts)
      assert.are.same(before, read_mapping(ids))
      for _, row in ipairs(read_rows(export)) do
        if row.status == "active" then
          assert_agent_matches(assert(session:agent(before[row.login])), row)
        end
      end
    end)

    it("deletes the agent of a row marked left", function()
      assert.are.equal(0, (sync(export)))
      local id = read_mapping(ids)["cid.spec"]
      write_file(export, (SMALL_EXPORT:gsub("de_DE,active", "de_DE,left")))
      local code, output = sync(export)
      assert.are.equal(0, code, output)
      assert.matches("1 deleted", output, 1, true)
      local agent, err = session:agent(id)
      assert.is_nil(agent)
      assert.are.equal(404, err.status)
      assert.is_nil(read_mapping(ids)["cid.spec"])
      assert.is_number(read_mapping(ids)["ann.spec"])
    end)

    it("recreates an agent whose mapped id no longer exists", function()
      assert.are.equal(0, (sync(export)))
      local old = read_mapping(ids)["bob.spec"]
      assert(session:delete_agent(old))
      local code, output = sync(export)
      assert.are.equal(0, code, output)
      local new = read_mapping(ids)["bob.spec"]
      assert.are_not.equal(old, new)
      local agent = assert(session:agent(new))
      assert.are.equal('Robert "Bob"', agent.first_name)
    end)

    it("prints the plan and changes nothing with --dry-run", function()
      assert.are.equal(0, (sync(export)))
      local mapping_before = read_file(ids)
      local mapping = read_mapping(ids)
      write_file(export, EXPORT_HEADER
        .. 'ann.spec,Ann,"Doe, Jr.",ann@new.example,1,2,fr_FR,active\n'
        .. 'bob.spec,"Robert ""Bob""",Stone,bob@example.com,2,,en_UK,left\n'
        .. "cid.spec,Cid,Moss,cid@example.com,3,15,de_DE,active\n"
        .. "eve.spec,Eve,New,eve@example.com,2,3,es_ES,active\n")
      local mark = #server:stderr()
      local code, output = sync("--dry-run", export)
      assert.are.equal(0, code, output)
      assert.matches("create eve.spec", output, 1, true)
      assert.matches('update ann.spec (id ' .. mapping["ann.spec"]
        .. '): email "ann@example.com" -> "ann@new.example"', output, 1, true)
      assert.matches("delete bob.spec (id " .. mapping["bob.spec"] .. ")",
        output, 1, true)
      local counts = count_methods(requests_since(server, session, mark))
      assert.are.same({GET = 2, POST = 0, PATCH = 0, DELETE = 0}, counts)
      assert.are.equal(mapping_before, read_file(ids))
      assert.are.equal("ann@example.com",
        assert(session:agent(mapping["ann.spec"])).email)
      assert.truthy(session:agent(mapping["bob.spec"]))
    end)

    it("writes no mapping file with --dry-run on a first run", function()
      local code, output = sync("--dry-run", export)
      assert.are.equal(0, code, output)
      assert.matches("would have: 3 created", output, 1, true)
      assert.is_nil(read_file(ids))
    end)

    it("reports bad rows by line number and syncs the others", function()
      write_file(export, EXPORT_HEADER
        .. "ann.spec,Ann,Doe,ann@example.com,1,2,fr_FR,active\n"
        .. "bad.group,Bad,Group,b@example.com,sales,2,fr_FR,active\n"
        .. "short.row,Short,Row\n"
        .. 'bad"quote,Bad,Quote,q@example.com,1,2,fr_FR,active\n'
        .. "ann.spec,Ann,Again,a2@example.com,1,2,fr_FR,active\n"
        .. "odd.status,Odd,Status,o@example.com,1,2,fr_FR,retired\n")
      local code, output = sync(export)
      assert.are.equal(1, code, output)
      assert.matches(export .. ':3: group must be a number, not "sales"',
        output, 1, true)
      assert.matches(export .. ":4: 3 fields where the header has 8",
        output, 1, true)
      assert.matches(export .. ":5: quote inside an unquoted field",
        output, 1, true)
      assert.matches(export .. ":6: login ann.spec already on line 2",
        output, 1, true)
      assert.matches(export .. ":7: status must be active or left",
        output, 1, true)
      assert.matches("1 created, 0 updated, 0 deleted, 0 unchanged, "
        .. "5 failed", output, 1, true)
      assert.are.same({"ann.spec"}, (function()
        local logins = {}
        for login in pairs(read_mapping(ids)) do logins[#logins + 1] = login end
        return logins
      end)())
    end)

    it("explains a login already used by an agent it does not know",
      function()
        write_file(export, EXPORT_HEADER
          .. "hugo.lindqvast,Hugo,L,h@example.com,2,2,en_UK,active\n")
        local code, output = sync(export)
        assert.are.equal(1, code, output)
        assert.matches("login: already used", output, 1, true)
        assert.matches("add a line login,id", output, 1, true)
      end)

    it("records every change made when stopped half-way", function()
      os.execute("cp " .. quote(ROOT .. "/examples/data/hr_export.csv") .. " "
        .. quote(export))
      local pipe = assert(io.popen(table.concat({
        "cd", quote(ROOT), "&&", "echo $$;", "exec", "env",
        "LUA_PATH=" .. quote(ROOT .. "/lua/?.lua;" .. ROOT
          .. "/lua/?/init.lua;;"),
        "LUA_CPATH=" .. quote(ROOT .. "/build/lua5.4/?.so;;"),
        "KIAMO_URL=" .. quote(server.url), "KIAMO_API_TOKEN=" .. TOKEN,
        "lua5.4", "examples/sync_agents.lua",
        quote(export), ">/dev/null 2>&1"}, " ")))
      local pid = assert(tonumber(pipe:read("l")))
      local mapped
      for _ = 1, 500 do
        mapped = read_mapping(ids)
        if mapped and next(mapped, next(mapped)) then break end
        os.execute("sleep 0.005")
      end
      os.execute("kill -TERM " .. pid)
      local _, _, status = pipe:close()
      assert.are.equal(130, status)
      mapped = read_mapping(ids)
      local before = 0
      for _ in pairs(mapped) do before = before + 1 end
      assert.is_true(before >= 2 and before < 321, "mapped " .. before)
      local code, output = sync(export)
      assert.are.equal(0, code, output)
      local created = tonumber(output:match("(%d+) created"))
      assert.are.equal(321, before + created)
      for login, id in pairs(mapped) do
        assert.are.equal(id, read_mapping(ids)[login])
      end
    end)

    it("stops at the first failure to reach the server", function()
      os.execute("cp " .. quote(ROOT .. "/examples/data/hr_export.csv") .. " "
        .. quote(export))
      local closed = {url = "http://127.0.0.1:1"}
      local code, output = run_example(closed, "sync_agents.lua",
                                       {"--concurrency", "4", export})
      assert.are.equal(1, code, output)
      local _, tried = output:gsub("kiamo: connect:", "")
      assert.is_true(tried >= 1 and tried <= 4, output)
      assert.matches("stopped: the server cannot be reached, "
        .. (340 - tried) .. " rows were not tried", output, 1, true)
      assert.matches("340 failed", output, 1, true)
      assert.is_nil(read_file(ids))
    end)

    it("shows one updating line on a terminal, plain lines elsewhere",
      function()
        local _, tty = run_example(server, "sync_agents.lua", {export},
                                   {progress = "tty"})
        assert.matches("\r\27[K  synced 4/4  ", tty, 1, true)
        local _, plain = run_example(server, "sync_agents.lua", {export},
                                     {progress = "plain"})
        assert.is_nil(plain:find("\r", 1, true))
        assert.matches("\n?  synced 4/4  [%d.]+/s\n", plain)
      end)

    it("syncs the bundled export of invented people", function()
      local bundled = ROOT .. "/examples/data/hr_export.csv"
      os.execute("cp " .. quote(bundled) .. " " .. quote(export))
      local code, output = sync(export)
      assert.are.equal(0, code, output)
      local mapping = read_mapping(ids)
      local active = 0
      for _, row in ipairs(read_rows(bundled)) do
        if row.status == "active" then
          active = active + 1
          assert_agent_matches(assert(session:agent(mapping[row.login])), row)
        else
          assert.is_nil(mapping[row.login])
        end
      end
      assert.is_true(active >= 300)
      assert.matches(active .. " created", output, 1, true)
    end)
  end)

  describe("plan_week.lua", function()
    local function sync_and_plan(export_text, schedule_text, ...)
      write_file(dir .. "/hr_export.csv", export_text)
      write_file(dir .. "/schedule.csv", schedule_text)
      local code, output = run_example(server, "sync_agents.lua",
                                       {dir .. "/hr_export.csv"})
      assert.are.equal(0, code, output)
      return run_example(server, "plan_week.lua", {"--utc-offset", "+01:00",
        "--week", WEEK, dir .. "/schedule.csv", ...})
    end

    it("plans the bundled schedule quarter hour for quarter hour", function()
      local code, output = sync_and_plan(
        read_file(ROOT .. "/examples/data/hr_export.csv"),
        read_file(ROOT .. "/examples/data/schedule.csv"))
      assert.are.equal(0, code, output)
      local mapping = read_mapping(dir .. "/hr_export.ids.csv")
      local expected, expected_count = expected_quarters(
        dir .. "/schedule.csv", mapping)
      local planned, planned_count = planned_quarters(session, mapping)
      assert.is_true(expected_count > 10000)
      assert.are.equal(expected_count, planned_count)
      assert.are.same(expected, planned)
      assert.matches("planning the week of Monday " .. WEEK, output, 1, true)
    end)

    it("shares one request among agents with the same shifts", function()
      local mark = #server:stderr()
      local code, output = sync_and_plan(EXPORT_HEADER
        .. "ann.spec,Ann,Doe,a@example.com,1,2,fr_FR,active\n"
        .. "bob.spec,Bob,Stone,b@example.com,2,2,en_UK,active\n"
        .. "cid.spec,Cid,Moss,c@example.com,3,,de_DE,active\n",
        "login,activity,weekday,start,end\n"
        .. "ann.spec,2,mon,09:00,12:30\n"
        .. "ann.spec,2,tue,09:00,12:30\n"
        .. "bob.spec,2,tue,09:00,12:30\n"
        .. "bob.spec,2,mon,09:00,12:30\n"
        .. "cid.spec,3,sun,22:00,06:00\n"
        .. "cid.spec,2,mon,09:00,12:30\n")
      assert.are.equal(0, code, output)
      local posts = 0
      for _, request in ipairs(requests_since(server, session, mark)) do
        if request == "POST /api/v3/activities/planning" then
          posts = posts + 1
        end
      end
      assert.are.equal(3, posts)
      local mapping = read_mapping(dir .. "/hr_export.ids.csv")
      local expected = expected_quarters(dir .. "/schedule.csv", mapping)
      assert.are.same(expected, (planned_quarters(session, mapping)))
      assert.matches("\n  2 +4 +56\n", output)
      assert.matches("\n  none +2 +", output)
    end)

    it("reports schedule rows it cannot use by line number", function()
      local code, output = sync_and_plan(EXPORT_HEADER
        .. "ann.spec,Ann,Doe,a@example.com,1,2,fr_FR,active\n",
        "login,activity,weekday,start,end\n"
        .. "ann.spec,2,mon,09:00,12:30\n"
        .. "nobody,2,mon,09:00,12:30\n"
        .. "ann.spec,2,someday,09:00,12:30\n"
        .. "ann.spec,2,tue,09:10,12:30\n"
        .. "ann.spec,x,wed,09:00,12:30\n")
      assert.are.equal(1, code, output)
      local schedule = dir .. "/schedule.csv"
      assert.matches(schedule .. ':3: login "nobody" is not in', output, 1,
                     true)
      assert.matches(schedule .. ":4: days[1] \"someday\" is not a weekday",
                     output, 1, true)
      assert.matches(schedule .. ":5: .*not on a quarter hour", output)
      assert.matches(schedule .. ':6: activity must be a number, not "x"',
                     output, 1, true)
      assert.matches("planned 1 entries by 1 requests", output, 1, true)
    end)

    it("refuses a --week that is not a Monday", function()
      write_file(dir .. "/hr_export.ids.csv", "login,id,team\n")
      write_file(dir .. "/schedule.csv", "login,activity,weekday,start,end\n")
      local code, output = run_example(server, "plan_week.lua", {
        "--utc-offset", "+01:00", "--week", "2026-12-10",
        dir .. "/schedule.csv"})
      assert.are.equal(2, code)
      assert.matches("2026-12-10 is a Thursday, not a Monday", output, 1,
                     true)
    end)
  end)

  describe("hosts.lua", function()
    it("prints the frontal host and ports of every application", function()
      local code, output = run_example(server, "hosts.lua", {})
      assert.are.equal(0, code, output)
      for _, app in ipairs{"kiwi", "supervision", "supervision-api",
                           "agent-api"} do
        local answer = assert(session:host(app))
        local line = output:match("\n(" .. app:gsub("%-", "%%-") .. " [^\n]*)")
        assert.is_string(line, output)
        local words = {}
        for word in line:gmatch("%S+") do words[#words + 1] = word end
        assert.are.equal(answer.frontal_server.host, words[2])
        assert.are.equal(tostring(answer.ports.http), words[3])
        assert.are.equal(tostring(answer.ports.https), words[4])
      end
    end)
  end)
end)


describe("examples/lib/csvfile", function()
  it("reads quoted commas, doubled quotes and line breaks", function()
    local records, problems = csvfile.parse(
      'a,b\n"x, y","say ""hi"""\n"two\nlines",z\n', "t.csv")
    assert.are.same({}, problems)
    assert.are.same({{"a", "b", line = 1}, {"x, y", 'say "hi"', line = 2},
                     {"two\nlines", "z", line = 3}}, records)
  end)

  it("names the line of a quoted field that is never closed", function()
    local records, err = csvfile.parse('a,b\n1,2\n3,"open\n4,5\n', "t.csv")
    assert.is_nil(records)
    assert.are.equal("t.csv:3: quoted field is not closed", err)
  end)

  it("writes what it reads, through a file renamed into place", function()
    local dir = temporary_directory()
    local path = dir .. "/out.csv"
    local rows = {{'Robert "Bob"', "Doe, Jr.", 3}, {"", " padded ", "x"}}
    assert.is_true(csvfile.write_atomically(path, {"a", "b", "c"}, rows))
    local read = assert(csvfile.read(path, {"a", "b", "c"}))
    os.execute("rm -rf " .. quote(dir))
    assert.are.same({a = 'Robert "Bob"', b = "Doe, Jr.", c = "3", line = 2},
                    read[1])
    assert.are.same({a = "", b = " padded ", c = "x", line = 3}, read[2])
  end)
end)

-- plan_week: plan next week's activities from a weekly schedule.
--
--   lua5.4 examples/plan_week.lua --utc-offset +01:00 [--week YYYY-MM-DD]
--     [--ids FILE] [--concurrency N] examples/data/schedule.csv
--
-- The schedule has one row per shift: login, activity (an id), weekday
-- (mon..sun), start and end (HH:MM, local times at --utc-offset; an end at
-- or before the start runs into the next day). Logins are resolved
-- through the mapping that sync_agents.lua keeps (hr_export.ids.csv beside
-- the schedule unless --ids says otherwise). The week planned is the one
-- starting on the Monday after today, or on the Monday given by --week.
-- Agents that share an activity and the same shifts are planned by one
-- request. The week is then read back per team and summed up.

local here = (arg and arg[0] or ""):match("^(.*)[/\\]") or "."
package.path = here .. "/lib/?.lua;" .. package.path

local kiamo = require "kiamo"
local csvfile = require "csvfile"
local progress = require "progress"
local workers = require "workers"

local SCHEDULE_COLUMNS = {"login", "activity", "weekday", "start", "end"}
local WEEKDAY_NAMES = {"Monday", "Tuesday", "Wednesday", "Thursday",
                       "Friday", "Saturday", "Sunday"}
local MAX_AGENTS_PER_REQUEST = 50
local PER_PAGE = 1000
local DEFAULT_CONCURRENCY = 8
-- Error kinds that mean the server cannot be reached: the run stops.
local NETWORK_KINDS = {connect = true, timeout = true, tls = true,
                       transport = true}
local USAGE = "usage: lua5.4 plan_week.lua --utc-offset +HH:MM "
  .. "[--week YYYY-MM-DD] [--ids FILE] [--concurrency N] SCHEDULE.csv"


local function fail(message, status)
  io.stderr:write("plan_week: ", message, "\n")
  os.exit(status or 2)
end


local function parse_arguments(args)
  local options = {concurrency = DEFAULT_CONCURRENCY}
  local i = 1
  local function value()
    i = i + 1
    return args[i] or fail(args[i - 1] .. " needs a value\n" .. USAGE)
  end
  while i <= #args do
    local a = args[i]
    if a == "--utc-offset" then
      options.utc_offset = value()
    elseif a == "--week" then
      options.week = value()
    elseif a == "--ids" then
      options.ids = value()
    elseif a == "--concurrency" then
      options.concurrency = math.tointeger(tonumber(value()))
      if not options.concurrency or options.concurrency < 1 then
        fail("--concurrency needs a positive integer")
      end
    elseif a == "--help" or a == "-h" then
      print(USAGE)
      os.exit(0)
    elseif a:sub(1, 1) == "-" then
      fail("unknown option " .. a .. "\n" .. USAGE)
    elseif options.schedule then
      fail(USAGE)
    else
      options.schedule = a
    end
    i = i + 1
  end
  if not options.schedule or not options.utc_offset then
    fail(USAGE)
  end
  if not options.ids then
    local dir = options.schedule:match("^(.*)[/\\]") or "."
    options.ids = dir .. "/hr_export.ids.csv"
  end
  return options
end


-- Minutes east of UTC of "+HH:MM" / "-HH:MM".
local function offset_minutes(text)
  local sign, hh, mm = text:match("^([+-])(%d%d):?(%d%d)$")
  if not sign or tonumber(mm) > 59 then
    fail(string.format("--utc-offset %q is not +HH:MM or -HH:MM", text))
  end
  local minutes = tonumber(hh) * 60 + tonumber(mm)
  return sign == "-" and -minutes or minutes
end


-- A civil date as a table {year, month, day} moved by `days`, through
-- os.time's normalisation at noon (far from any daylight-saving jump).
local function add_days(date, days)
  local t = os.time{year = date.year, month = date.month,
                    day = date.day + days, hour = 12}
  local moved = os.date("*t", t)
  return {year = moved.year, month = moved.month, day = moved.day,
          wday = moved.wday}
end


local function iso_date(date)
  return string.format("%04d-%02d-%02d", date.year, date.month, date.day)
end


-- The Monday the plan starts on: --week if given (it must be a Monday),
-- otherwise the first Monday after today at the given offset.
local function first_day(options, offset)
  if options.week then
    local y, m, d = options.week:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
    local date = y and {year = tonumber(y), month = tonumber(m),
                        day = tonumber(d)}
    local checked = date and add_days(date, 0)
    if not checked or iso_date(checked) ~= options.week then
      fail(string.format("--week %q is not a date (YYYY-MM-DD)",
                         options.week))
    end
    if checked.wday ~= 2 then
      fail(string.format("--week %s is a %s, not a Monday", options.week,
                         WEEKDAY_NAMES[(checked.wday + 5) % 7 + 1]))
    end
    return checked
  end
  local today = os.date("!*t", os.time() + offset * 60)
  local monday_index = (today.wday + 5) % 7 + 1   -- Monday 1 ... Sunday 7
  return add_days(today, 8 - monday_index)
end


-- Minutes between two ISO 8601 UTC times of the same week or so.
local function minutes_between(from, to)
  local function split(iso)
    local y, m, d, hh, mm = iso:match("^(%d+)%-(%d+)%-(%d+)T(%d+):(%d+)")
    local noon = os.time{year = tonumber(y), month = tonumber(m),
                         day = tonumber(d), hour = 12}
    return noon, tonumber(hh) * 60 + tonumber(mm)
  end
  local day1, minute1 = split(from)
  local day2, minute2 = split(to)
  local days = math.floor((day2 - day1) / 86400 + 0.5)
  return days * 24 * 60 + minute2 - minute1
end


local function read_mapping(path)
  local rows, problems = csvfile.read(path, {"login", "id"})
  if not rows then
    fail(problems .. " (run sync_agents.lua first, or give --ids)")
  end
  if #problems > 0 then
    fail(table.concat(problems, "\n"))
  end
  local mapping, team_of = {}, {}
  for _, row in ipairs(rows) do
    local id = math.tointeger(tonumber(row.id))
    if not id then
      fail(string.format("%s:%d: id must be a number, not %q", path,
                         row.line, row.id))
    end
    mapping[row.login] = id
    team_of[id] = math.tointeger(tonumber(row.team or ""))
  end
  return mapping, team_of
end


-- Reads the schedule: returns plan[agent id][activity id] = list of
-- periods, and the number of rows left out (each reported).
local function read_schedule(options, monday, mapping, report)
  local rows, problems = csvfile.read(options.schedule, SCHEDULE_COLUMNS)
  if not rows then
    fail(problems)
  end
  for _, message in ipairs(problems) do
    report(message)
  end
  local sunday = iso_date(add_days(monday, 6))
  local plan, agents, bad = {}, 0, #problems
  for _, row in ipairs(rows) do
    local agent = mapping[row.login]
    local activity = row.activity:match("^%d+$")
      and math.tointeger(tonumber(row.activity))
    local ok, periods = pcall(kiamo.schedule, {
      from = iso_date(monday), to = sunday, days = {row.weekday},
      slots = {{row.start, row["end"]}}, utc_offset = options.utc_offset})
    local problem
    if not agent then
      problem = string.format("login %q is not in %s (run sync_agents.lua)",
                              row.login, options.ids)
    elseif not activity then
      problem = string.format("activity must be a number, not %q",
                              row.activity)
    elseif not ok then
      problem = tostring(periods):gsub("^kiamo%.schedule: ", "")
    end
    if problem then
      report(string.format("%s:%d: %s", options.schedule, row.line, problem))
      bad = bad + 1
    else
      local by_activity = plan[agent]
      if not by_activity then
        by_activity = {}
        plan[agent] = by_activity
        agents = agents + 1
      end
      local list = by_activity[activity] or {}
      by_activity[activity] = list
      for _, period in ipairs(periods) do
        list[#list + 1] = period
      end
    end
  end
  return plan, agents, bad
end


-- Turns the plan into requests: agents with the same activity and the
-- same periods share one POST (at most MAX_AGENTS_PER_REQUEST agents).
local function group_requests(plan)
  local groups, keys = {}, {}
  for agent, by_activity in pairs(plan) do
    for activity, periods in pairs(by_activity) do
      table.sort(periods, function(a, b)
        return a.startTime < b.startTime
          or a.startTime == b.startTime and a.endTime < b.endTime
      end)
      local parts = {activity}
      for i, p in ipairs(periods) do
        parts[i + 1] = p.startTime .. "/" .. p.endTime
      end
      local key = table.concat(parts, " ")
      local group = groups[key]
      if not group then
        group = {activity = activity, periods = periods, agents = {}}
        groups[key] = group
        keys[#keys + 1] = key
      end
      group.agents[#group.agents + 1] = agent
    end
  end
  table.sort(keys)
  local requests = {}
  for _, key in ipairs(keys) do
    local group = groups[key]
    table.sort(group.agents)
    for first = 1, #group.agents, MAX_AGENTS_PER_REQUEST do
      requests[#requests + 1] = {
        activity = group.activity, periods = group.periods,
        agents = table.move(group.agents, first,
                            math.min(first + MAX_AGENTS_PER_REQUEST - 1,
                                     #group.agents), 1, {})}
    end
  end
  return requests
end


local function open_session()
  local ok, session = pcall(kiamo.session, {})
  if not ok then
    fail(tostring(session))
  end
  return session
end




local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    keys[#keys + 1] = k
  end
  table.sort(keys, function(a, b)
    if type(a) == type(b) then
      return a < b
    end
    return type(a) == "number"
  end)
  return keys
end


local function main(args)
  local options = parse_arguments(args)
  if not os.getenv("KIAMO_URL") or not os.getenv("KIAMO_API_TOKEN") then
    fail("set KIAMO_URL and KIAMO_API_TOKEN (the server and its token)")
  end
  local offset = offset_minutes(options.utc_offset)
  local monday = first_day(options, offset)
  local mapping, team_of = read_mapping(options.ids)
  local plan, agent_count, bad_rows = read_schedule(options, monday,
    mapping, function(message) io.stderr:write(message, "\n") end)
  local requests = group_requests(plan)
  local session = open_session()
  local started = progress.clock()
  print(string.format("planning the week of Monday %s at UTC%s: %d agents,"
    .. " %d requests", iso_date(monday), options.utc_offset, agent_count,
    #requests))

  local failed, planned, stopped_by = 0, 0, nil
  local meter = progress.new("planned", #requests)
  local tasks = {}
  for i, request in ipairs(requests) do
    tasks[i] = function()
      local ok, result, err = pcall(session.create_planning, session, {
        periods = request.periods, activities = {request.activity},
        agents = request.agents})
      if ok and not result and NETWORK_KINDS[err.kind] then
        stopped_by = err
      end
      if not ok or not result then
        failed = failed + 1
        meter:say(string.format("activity %d for %d agents (%d..%d): %s",
          request.activity, #request.agents, request.agents[1],
          request.agents[#request.agents], tostring(ok and err or result)))
      else
        planned = planned + #(result.data or result)
      end
      meter:step()
    end
  end
  local tried = workers.run(session, tasks, options.concurrency, function()
    return stopped_by ~= nil
  end)
  failed = failed + #tasks - tried
  meter:finish()
  local planned_at = progress.clock()
  if stopped_by then
    session:close()
    fail(string.format("stopped: the server cannot be reached (%s)",
                       tostring(stopped_by)), 1)
  end

  -- Read the week back, per team (agents without a team by their ids).
  local days = kiamo.schedule{from = iso_date(monday),
    to = iso_date(add_days(monday, 6)), slots = {{"00:00", "24:00"}},
    utc_offset = options.utc_offset}
  local week = kiamo.period(days[1].startTime, days[#days].endTime)
  local selections, teams_seen, teamless = {}, {}, {}
  for agent in pairs(plan) do
    local team = team_of[agent]
    if team and not teams_seen[team] then
      teams_seen[team] = true
      selections[#selections + 1] = {label = team, team = team}
    elseif not team then
      teamless[#teamless + 1] = agent
    end
  end
  table.sort(selections, function(a, b) return a.team < b.team end)
  table.sort(teamless)
  for first = 1, #teamless, MAX_AGENTS_PER_REQUEST do
    selections[#selections + 1] = {label = "none", agents = table.move(
      teamless, first, math.min(first + MAX_AGENTS_PER_REQUEST - 1,
                                #teamless), 1, {})}
  end

  local per_team, per_activity, read_failed = {}, {}, 0
  local read_tasks = {}
  for i, selection in ipairs(selections) do
    read_tasks[i] = function()
      local ok, err = pcall(function()
        local query = {periods = {week}, activities = {},
                       team = selection.team, agents = selection.agents,
                       per_page = PER_PAGE}
        local count = per_team[selection.label] or {entries = 0, quarters = 0}
        per_team[selection.label] = count
        for entry in session:each_planning(query) do
          local quarters = minutes_between(entry.period.startTime,
                                           entry.period.endTime) // 15
          count.entries = count.entries + 1
          count.quarters = count.quarters + quarters
          per_activity[entry.activity] =
            (per_activity[entry.activity] or 0) + quarters
        end
      end)
      if not ok then
        read_failed = read_failed + 1
        io.stderr:write(string.format("reading team %s back: %s\n",
                                      selection.label, tostring(err)))
      end
    end
  end
  workers.run(session, read_tasks, options.concurrency, function()
    return false
  end)
  session:close()
  local finished = progress.clock()

  print(string.format("planned %d entries by %d requests, %d failed, %d"
    .. " schedule rows left out (%.2f s)", planned, #requests, failed,
    bad_rows, planned_at - started))
  print(string.format("read back per team (%.2f s):", finished - planned_at))
  print("  team      entries  quarter hours")
  for _, label in ipairs(sorted_keys(per_team)) do
    local count = per_team[label]
    print(string.format("  %-8s %8d %14d", tostring(label), count.entries,
                        count.quarters))
  end
  print("quarter hours per activity:")
  print("  activity  quarter hours")
  for _, activity in ipairs(sorted_keys(per_activity)) do
    print(string.format("  %-8s %14d", tostring(activity),
                        per_activity[activity]))
  end
  local trouble = failed + read_failed + bad_rows
  return trouble == 0 and 0 or 1
end


os.exit(main(arg))

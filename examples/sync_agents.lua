-- sync_agents: make Kiamo's agents match an HR export.
--
--   lua5.4 examples/sync_agents.lua [--dry-run] [--verbose]
--     [--ids FILE] [--concurrency N] examples/data/hr_export.csv
--
-- The export has one row per person: login, first_name, last_name, email,
-- group, team (may be empty), language, status ("active" or "left").
-- Missing agents are created, changed ones patched (only the fields that
-- differ), those who left deleted. The API cannot list agents, so the
-- login-to-id mapping lives in a CSV beside the export (hr_export.ids.csv),
-- rewritten atomically after each change: an interrupted run loses nothing
-- and the next run carries on; Ctrl-C (SIGINT) or SIGTERM lets the
-- requests under way finish and record their answers before it stops.
-- --dry-run prints the plan and changes nothing. The server and token
-- come from KIAMO_URL and KIAMO_API_TOKEN.

local here = (arg and arg[0] or ""):match("^(.*)[/\\]") or "."
package.path = here .. "/lib/?.lua;" .. package.path

local kiamo = require "kiamo"
local csvfile = require "csvfile"
local progress = require "progress"
local workers = require "workers"
local has_signal, signal = pcall(require, "kiamo.signal")

local EXPORT_COLUMNS = {"login", "first_name", "last_name", "email", "group",
                        "team", "language", "status"}
local MAPPING_HEADER = {"login", "id", "team"}
local TEXT_FIELDS = {"first_name", "last_name", "email", "language"}
local DEFAULT_CONCURRENCY = 8
-- Error kinds that mean the server cannot be reached: the run stops.
local NETWORK_KINDS = {connect = true, timeout = true, tls = true,
                       transport = true}
local USAGE = "usage: lua5.4 sync_agents.lua [--dry-run] [--verbose] "
  .. "[--ids FILE] [--concurrency N] HR_EXPORT.csv"


local function fail(message, status)
  io.stderr:write("sync_agents: ", message, "\n")
  os.exit(status or 2)
end


local function parse_arguments(args)
  local options = {concurrency = DEFAULT_CONCURRENCY}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--dry-run" then
      options.dry_run = true
    elseif a == "--verbose" or a == "-v" then
      options.verbose = true
    elseif a == "--ids" then
      i = i + 1
      options.ids = args[i] or fail(USAGE)
    elseif a == "--concurrency" then
      i = i + 1
      options.concurrency = math.tointeger(tonumber(args[i] or ""))
      if not options.concurrency or options.concurrency < 1 then
        fail("--concurrency needs a positive integer")
      end
    elseif a == "--help" or a == "-h" then
      print(USAGE)
      os.exit(0)
    elseif a:sub(1, 1) == "-" then
      fail("unknown option " .. a .. "\n" .. USAGE)
    elseif options.export then
      fail(USAGE)
    else
      options.export = a
    end
    i = i + 1
  end
  if not options.export then
    fail(USAGE)
  end
  options.ids = options.ids or options.export:gsub("%.csv$", "") .. ".ids.csv"
  return options
end


local function positive_integer(text)
  if text:match("^%d+$") then
    return math.tointeger(tonumber(text))
  end
end


-- Checks one export row; returns the person it describes, or nil and why.
local function read_person(row)
  local person = {line = row.line}
  for _, name in ipairs(EXPORT_COLUMNS) do
    person[name] = row[name]:match("^%s*(.-)%s*$")
  end
  if person.login == "" then
    return nil, "login is empty"
  end
  person.status = person.status:lower()
  if person.status ~= "active" and person.status ~= "left" then
    return nil, string.format("status must be active or left, not %q",
                              person.status)
  end
  if person.status == "left" then
    return person
  end
  if person.last_name == "" then
    return nil, "last_name is empty"
  end
  person.group = positive_integer(person.group)
  if not person.group then
    return nil, string.format("group must be a number, not %q", row.group)
  end
  if person.team == "" then
    person.team = nil
  else
    person.team = positive_integer(person.team)
    if not person.team then
      return nil, string.format("team must be a number or empty, not %q",
                                row.team)
    end
  end
  return person
end


local function read_export(path, report)
  local rows, problems = csvfile.read(path, EXPORT_COLUMNS)
  if not rows then
    fail(problems)
  end
  local people, seen, bad = {}, {}, #problems
  for _, message in ipairs(problems) do
    report(message)
  end
  for _, row in ipairs(rows) do
    local person, err = read_person(row)
    if person and seen[person.login] then
      person, err = nil, string.format("login %s already on line %d",
                                       person.login, seen[person.login])
    end
    if person then
      seen[person.login] = person.line
      people[#people + 1] = person
    else
      report(string.format("%s:%d: %s", path, row.line, err))
      bad = bad + 1
    end
  end
  return people, bad
end


-- The mapping file, kept in memory as the entries (login -> {id = agent
-- id, team = team id or nil}), each entry's CSV line, and the logins in
-- sorted order, so that rewriting the file after a change costs one
-- formatted line, not a whole file of them.
local Mapping = {}
Mapping.__index = Mapping
Mapping.__name = "sync_agents.Mapping"


local function find_login(order, login)
  local low, high = 1, #order
  while low <= high do
    local middle = (low + high) // 2
    if order[middle] < login then
      low = middle + 1
    elseif order[middle] > login then
      high = middle - 1
    else
      return middle, true
    end
  end
  return low, false
end


function Mapping:get(login)
  return self.entries[login]
end


-- Records login -> id (and team), or forgets the login when id is nil.
function Mapping:set(login, id, team)
  local at, present = find_login(self.order, login)
  if id then
    if not present then
      table.insert(self.order, at, login)
    end
    self.entries[login] = {id = id, team = team}
    self.lines[login] = csvfile.format{login, id, team or ""}
  elseif present then
    table.remove(self.order, at)
    self.entries[login] = nil
    self.lines[login] = nil
  end
end


-- Rewrites the file atomically; exits on failure, since going on would
-- create agents that no file remembers.
function Mapping:save()
  local lines = {csvfile.format(MAPPING_HEADER)}
  for i, login in ipairs(self.order) do
    lines[i + 1] = self.lines[login]
  end
  lines[#lines + 1] = ""
  local ok, err = csvfile.replace(self.path, table.concat(lines, "\n"))
  if not ok then
    fail("cannot write " .. self.path .. ": " .. tostring(err), 1)
  end
end


local function read_mapping(path)
  local mapping = setmetatable({path = path, entries = {}, lines = {},
                                order = {}}, Mapping)
  local file = io.open(path, "rb")
  if not file then
    return mapping
  end
  file:close()
  local rows, problems = csvfile.read(path, {"login", "id"})
  if not rows then
    fail(problems)
  end
  if #problems > 0 then
    fail(table.concat(problems, "\n"))
  end
  for _, row in ipairs(rows) do
    local id = positive_integer(row.id)
    if not id then
      fail(string.format("%s:%d: id must be a number, not %q", path,
                         row.line, row.id))
    end
    mapping:set(row.login, id, positive_integer(row.team or ""))
  end
  return mapping
end


-- The team of an agent as the API shows it: an id, or nil for none (the
-- API answers {"id": "", "label": ""} for an agent without a team).
local function team_of(agent)
  local team = agent.team
  if type(team) ~= "table" and type(team) ~= "userdata" then
    return nil
  end
  return math.tointeger(tonumber(team.id))
end


local function group_of(agent)
  local group = agent.group
  if type(group) == "table" or type(group) == "userdata" then
    group = group.id
  end
  return math.tointeger(tonumber(group))
end


local function show(value)
  if value == nil then
    return "none"
  elseif type(value) == "string" then
    return string.format("%q", value)
  end
  return tostring(value)
end


-- The fields of `agent` that differ from `person`: a PATCH body, and a
-- list of readable changes. Empty when nothing differs.
local function differences(agent, person)
  local body, changes = {}, {}
  local function compare(name, current, wanted)
    if current ~= wanted then
      body[name] = wanted == nil and kiamo.null or wanted
      changes[#changes + 1] = string.format("%s %s -> %s", name,
                                            show(current), show(wanted))
    end
  end
  compare("login", agent.login, person.login)
  for _, name in ipairs(TEXT_FIELDS) do
    if name ~= "language" or person.language ~= "" then
      compare(name, agent[name] or "", person[name])
    end
  end
  compare("group", group_of(agent), person.group)
  compare("team", team_of(agent), person.team)
  return body, changes
end


local function creation_body(person)
  local body = {login = person.login, last_name = person.last_name,
                first_name = person.first_name, email = person.email,
                group = person.group, team = person.team}
  if person.language ~= "" then
    body.language = person.language
  end
  return body
end


local function describe_person(person)
  local team = person.team and (", team " .. person.team) or ""
  local language = person.language ~= "" and (", " .. person.language) or ""
  return string.format("%s %s, group %d%s%s", person.first_name,
                       person.last_name, person.group, team, language)
end


local function explain(err)
  local text = tostring(err)
  if type(err) == "table" or type(err) == "userdata" then
    if err.code == "ERR_1020" and tostring(err.info):find("login: already")
    then
      text = text .. " (the agent exists but its id is not in the mapping"
        .. " file: add a line login,id to it)"
    end
  end
  return text
end


-- Has Ctrl-C or SIGTERM asked the run to stop? Without the signal module
-- a signal ends the process at once, as usual.
local function interrupted()
  return has_signal and signal.caught() ~= nil
end


local function open_session()
  local ok, session = pcall(kiamo.session, {})
  if not ok then
    fail(tostring(session))
  end
  return session
end




local function main(args)
  local options = parse_arguments(args)
  if not os.getenv("KIAMO_URL") or not os.getenv("KIAMO_API_TOKEN") then
    fail("set KIAMO_URL and KIAMO_API_TOKEN (the server and its token)")
  end
  local messages = {}
  local people, bad_rows = read_export(options.export, function(message)
    messages[#messages + 1] = message
  end)
  for _, message in ipairs(messages) do
    io.stderr:write(message, "\n")
  end
  local mapping = read_mapping(options.ids)
  local session = open_session()
  if has_signal and not options.dry_run then
    signal.catch{"INT", "TERM"}
  end
  local counts = {created = 0, updated = 0, deleted = 0, unchanged = 0,
                  failed = bad_rows}
  local stopped_by = nil
  local dry = options.dry_run
  local meter = progress.new(dry and "checked" or "synced", #people)
  local started = progress.clock()

  local function report(line)
    if dry or options.verbose then
      meter:say(line)
    end
  end

  local function failed(person, message, err)
    counts.failed = counts.failed + 1
    if kiamo.Error.is(err) and NETWORK_KINDS[err.kind] then
      stopped_by = stopped_by or err
    end
    meter:say(string.format("%s:%d: %s: %s", options.export, person.line,
                            person.login, message))
  end

  local function remember(person, id, team)
    mapping:set(person.login, id, team)
    mapping:save()
  end

  local function create(person, reason)
    report("create " .. person.login .. ": " .. describe_person(person)
           .. (reason or ""))
    if dry then
      counts.created = counts.created + 1
      return
    end
    local agent, err = session:create_agent(creation_body(person))
    if not agent then
      return failed(person, explain(err), err)
    end
    counts.created = counts.created + 1
    remember(person, agent.id, team_of(agent))
  end

  local function delete(person, entry)
    report(string.format("delete %s (id %d)", person.login, entry.id))
    if dry then
      counts.deleted = counts.deleted + 1
      return
    end
    local ok, err = session:delete_agent(entry.id)
    if not ok and not (err and err.status == 404) then
      return failed(person, explain(err), err)
    end
    counts.deleted = counts.deleted + 1
    remember(person, nil)
  end

  local function update(person, entry)
    local agent, err = session:agent(entry.id)
    if not agent then
      if err and err.status == 404 then
        if not dry then
          remember(person, nil)
        end
        return create(person, string.format(" (id %d no longer exists)",
                                            entry.id))
      end
      return failed(person, explain(err), err)
    end
    local body, changes = differences(agent, person)
    if #changes == 0 then
      counts.unchanged = counts.unchanged + 1
      if not dry and entry.team ~= person.team then
        remember(person, entry.id, person.team)
      end
      return
    end
    report(string.format("update %s (id %d): %s", person.login, entry.id,
                         table.concat(changes, ", ")))
    if dry then
      counts.updated = counts.updated + 1
      return
    end
    local updated, update_err = session:update_agent(entry.id, body)
    if not updated then
      return failed(person, explain(update_err), update_err)
    end
    counts.updated = counts.updated + 1
    remember(person, entry.id, team_of(updated))
  end

  local tasks = {}
  for _, person in ipairs(people) do
    tasks[#tasks + 1] = function()
      local entry = mapping:get(person.login)
      local ok, err = pcall(function()
        if person.status == "left" then
          if entry then
            delete(person, entry)
          else
            counts.unchanged = counts.unchanged + 1
          end
        elseif entry then
          update(person, entry)
        else
          create(person)
        end
      end)
      if not ok then
        failed(person, tostring(err))
      end
      meter:step()
    end
  end
  local tried = workers.run(session, tasks, options.concurrency, function()
    return stopped_by ~= nil or interrupted()
  end)
  local skipped = #tasks - tried
  meter:finish()
  session:close()

  local elapsed = progress.clock() - started
  if stopped_by then
    counts.failed = counts.failed + skipped
    print(string.format("stopped: the server cannot be reached, %d rows"
      .. " were not tried", skipped))
  elseif skipped > 0 then
    print(string.format("interrupted: %d rows were not tried; %s holds"
      .. " every change made", skipped, options.ids))
  end
  print(string.format(
    "%s%d created, %d updated, %d deleted, %d unchanged, %d failed"
      .. " (%d rows, %.2f s)", dry and "dry run, would have: " or "",
    counts.created, counts.updated, counts.deleted, counts.unchanged,
    counts.failed, #people + bad_rows, elapsed))
  if interrupted() then
    return 130
  end
  return counts.failed == 0 and 0 or 1
end


os.exit(main(arg))

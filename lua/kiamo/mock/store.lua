-- kiamo.mock.store: the emulator's state. Builds it from a fixture (or a
-- state file, the fixture's format plus `next_agent_id` and password
-- hashes), refusing anything malformed with a message naming the field,
-- and writes it back in that format.

local json = require "kiamo.mock.json"
local dates = require "kiamo.mock.dates"
local intervals = require "kiamo.mock.intervals"

local store = {}

local APIS = {
  activity_planning = true, agent = true, contact_manager = true,
  interaction = true, supervision = true,
}
local VERBS = {GET = true, POST = true, PUT = true, DELETE = true}
local TIMEZONE_TYPES = {group = true, team = true, custom = true}
local QUARTER = 15

local null = json.null

local function fail(where, what)
  error({store_error = where .. ": " .. what}, 0)
end

local function is_array(v)
  if type(v) ~= "table" or v == null then return false end
  local mt = getmetatable(v)
  if mt == json.array_mt then return true end
  if mt ~= nil then return false end
  local count = 0
  for _ in pairs(v) do count = count + 1 end
  return count == #v
end

local function is_object(v)
  if type(v) ~= "table" or v == null then return false end
  local mt = getmetatable(v)
  if mt == json.object_mt then return true end
  return mt == nil and (next(v) == nil or #v == 0)
end

local function need_array(v, where)
  if v == nil then fail(where, "missing") end
  if not is_array(v) then fail(where, "array expected") end
  return v
end

local function need_object(v, where)
  if not is_object(v) then fail(where, "object expected") end
  return v
end

local function need_string(v, where, optional)
  if v == nil and optional then return nil end
  if v == nil then fail(where, "missing") end
  if type(v) ~= "string" then fail(where, "string expected") end
  return v
end

local function need_id(v, where)
  if v == nil then fail(where, "missing") end
  if math.type(v) ~= "integer" or v < 1 then
    fail(where, "positive integer expected")
  end
  return v
end

local function string_set(list, where, allowed)
  local set = {}
  for i, value in ipairs(need_array(list, where)) do
    local at = string.format("%s[%d]", where, i)
    need_string(value, at)
    if value == "" then fail(at, "empty string") end
    if allowed and not allowed[value] then
      fail(at, string.format("unknown value %q", value))
    end
    if set[value] then fail(at, string.format("duplicate %q", value)) end
    set[value] = true
  end
  return set
end

local function load_tokens(doc, state)
  for i, item in ipairs(need_array(doc.tokens, "tokens")) do
    local at = string.format("tokens[%d]", i)
    need_object(item, at)
    local token = need_string(item.token, at .. ".token")
    if not token:match("^" .. string.rep("%x", 40) .. "$") then
      fail(at .. ".token", "40 hexadecimal characters expected")
    end
    if state.tokens[token] then fail(at .. ".token", "duplicate token") end
    local active = item.active
    if active == nil then active = true end
    if type(active) ~= "boolean" then
      fail(at .. ".active", "boolean expected")
    end
    local entry = {
      token = token, active = active,
      apis = string_set(item.apis, at .. ".apis", APIS),
      verbs = string_set(item.verbs, at .. ".verbs", VERBS),
      api_list = table.move(item.apis, 1, #item.apis, 1, {}),
      verb_list = table.move(item.verbs, 1, #item.verbs, 1, {}),
    }
    state.tokens[token] = entry
    state.token_list[i] = entry
  end
end

local function load_labelled(list, where, state, with_timezone)
  local by_id, ids = {}, {}
  for i, item in ipairs(need_array(list, where)) do
    local at = string.format("%s[%d]", where, i)
    need_object(item, at)
    local id = need_id(item.id, at .. ".id")
    if by_id[id] then fail(at .. ".id", "duplicate id " .. id) end
    local record = {id = id, label = need_string(item.label, at .. ".label")}
    if with_timezone then
      record.timezone = need_string(item.timezone, at .. ".timezone")
      if not state.timezone_set[record.timezone] then
        fail(at .. ".timezone",
          string.format("unknown time zone %q", record.timezone))
      end
    end
    by_id[id] = record
    ids[#ids + 1] = id
  end
  table.sort(ids)
  return by_id, ids
end

local function optional_known(item, name, at, set, what)
  local value = need_string(item[name], at .. "." .. name, true)
  if value and not set[value] then
    fail(at .. "." .. name, string.format("unknown %s %q", what, value))
  end
  return value
end

local function load_agent(item, at, state)
  need_object(item, at)
  local agent = {id = need_id(item.id, at .. ".id")}
  if state.agents[agent.id] then
    fail(at .. ".id", "duplicate id " .. agent.id)
  end
  for _, name in ipairs{"last_name", "login"} do
    agent[name] = need_string(item[name], at .. "." .. name)
    if agent[name] == "" then fail(at .. "." .. name, "empty string") end
  end
  if state.logins[agent.login] then
    fail(at .. ".login", string.format("duplicate login %q", agent.login))
  end
  agent.group = need_id(item.group, at .. ".group")
  if not state.groups[agent.group] then
    fail(at .. ".group", "unknown group " .. agent.group)
  end
  if item.team ~= nil and item.team ~= null then
    agent.team = need_id(item.team, at .. ".team")
    if not state.teams[agent.team] then
      fail(at .. ".team", "unknown team " .. agent.team)
    end
  end
  agent.first_name = need_string(item.first_name, at .. ".first_name", true)
    or ""
  agent.email = need_string(item.email, at .. ".email", true) or ""
  agent.language = optional_known(item, "language", at, state.language_set,
    "language") or state.languages[1]
  agent.timezone_type = optional_known(item, "timezone_type", at,
    TIMEZONE_TYPES, "time zone type") or "group"
  agent.timezone_code = optional_known(item, "timezone_code", at,
    state.timezone_set, "time zone")
  if agent.timezone_type == "custom" and not agent.timezone_code then
    fail(at .. ".timezone_code", "missing (timezone_type is custom)")
  end
  local must_update = item.must_update_password
  if must_update ~= nil and type(must_update) ~= "boolean" then
    fail(at .. ".must_update_password", "boolean expected")
  end
  agent.must_update_password = must_update or false
  agent.password_salt = need_string(item.password_salt,
    at .. ".password_salt", true)
  agent.password_sha256 = need_string(item.password_sha256,
    at .. ".password_sha256", true)
  if (agent.password_salt == nil) ~= (agent.password_sha256 == nil) then
    fail(at, "password_salt and password_sha256 go together")
  end
  if agent.password_sha256 and not agent.password_sha256:match(
      "^" .. string.rep("%x", 64) .. "$") then
    fail(at .. ".password_sha256", "64 hexadecimal characters expected")
  end
  state.agents[agent.id] = agent
  state.logins[agent.login] = agent
  return agent
end

local function load_date(value, at)
  local minutes = dates.parse(value)
  if not minutes then
    fail(at, "ISO 8601 UTC date expected (YYYY-MM-DDTHH:MM:SSZ)")
  end
  if minutes % QUARTER ~= 0 then fail(at, "not on a quarter hour") end
  return minutes
end

local function load_planning(list, state)
  if list == nil then return end
  for i, item in ipairs(need_array(list, "planning")) do
    local at = string.format("planning[%d]", i)
    need_object(item, at)
    local agent = need_id(item.agent, at .. ".agent")
    if not state.agents[agent] then
      fail(at .. ".agent", "unknown agent " .. agent)
    end
    local activity = need_id(item.activity, at .. ".activity")
    if not state.activities[activity] then
      fail(at .. ".activity", "unknown activity " .. activity)
    end
    local start = load_date(item.startTime, at .. ".startTime")
    local stop = load_date(item.endTime, at .. ".endTime")
    if stop <= start then fail(at .. ".endTime", "not after startTime") end
    local by_activity = state.planning[agent] or {}
    state.planning[agent] = by_activity
    by_activity[activity] = intervals.add(by_activity[activity] or {},
      start, stop)
  end
end

local function load_balancing(doc, state)
  local apps = need_object(doc.load_balancing, "load_balancing")
  for name, answer in pairs(apps) do
    need_object(answer, "load_balancing." .. name)
    state.load_balancing[name] = answer
  end
end

local function build(doc)
  need_object(doc, "top level")
  local state = {
    tokens = {}, token_list = {}, agents = {}, logins = {},
    planning = {}, load_balancing = {},
  }
  load_tokens(doc, state)
  state.language_set = string_set(doc.languages, "languages")
  if #doc.languages == 0 then fail("languages", "at least one expected") end
  state.languages = table.move(doc.languages, 1, #doc.languages, 1, {})
  state.timezone_set = string_set(doc.timezones, "timezones")
  state.timezones = table.move(doc.timezones, 1, #doc.timezones, 1, {})
  state.groups, state.group_ids = load_labelled(doc.groups, "groups", state,
    true)
  state.teams, state.team_ids = load_labelled(doc.teams, "teams", state,
    true)
  state.activities, state.activity_ids = load_labelled(doc.activities,
    "activities", state, false)
  local highest = 0
  for i, item in ipairs(need_array(doc.agents, "agents")) do
    local agent = load_agent(item, string.format("agents[%d]", i), state)
    if agent.id > highest then highest = agent.id end
  end
  state.next_agent_id = highest + 1
  if doc.next_agent_id ~= nil then
    local next_id = need_id(doc.next_agent_id, "next_agent_id")
    if next_id <= highest then
      fail("next_agent_id", "must be greater than every agent id")
    end
    state.next_agent_id = next_id
  end
  load_planning(doc.planning, state)
  load_balancing(doc, state)
  return state
end

--- The state of a fixture (a table as kiamo.mock.json decodes it), or nil
-- and "<source>: <field>: <problem>".
function store.load(doc, source)
  local ok, result = pcall(build, doc)
  if ok then return result end
  if type(result) == "table" and result.store_error then
    return nil, source .. ": " .. result.store_error
  end
  error(result, 0)
end

local function sorted_keys(map)
  local keys = {}
  for key in pairs(map) do keys[#keys + 1] = key end
  table.sort(keys)
  return keys
end

local function labelled_list(by_id, ids, with_timezone)
  local list = {}
  for i, id in ipairs(ids) do
    local record = by_id[id]
    local fields = {"id", id, "label", record.label}
    if with_timezone then
      fields[5], fields[6] = "timezone", record.timezone
    end
    list[i] = json.object(fields)
  end
  return json.array(list)
end

local function agent_list(state)
  local list = {}
  for i, id in ipairs(sorted_keys(state.agents)) do
    local agent = state.agents[id]
    local fields = {
      "id", id, "first_name", agent.first_name,
      "last_name", agent.last_name, "login", agent.login,
      "email", agent.email, "group", agent.group,
      "team", agent.team or null, "language", agent.language,
      "timezone_type", agent.timezone_type,
    }
    local function add(name, value)
      fields[#fields + 1] = name
      fields[#fields + 1] = value
    end
    if agent.timezone_code then add("timezone_code", agent.timezone_code) end
    add("must_update_password", agent.must_update_password)
    if agent.password_sha256 then
      add("password_salt", agent.password_salt)
      add("password_sha256", agent.password_sha256)
    end
    list[i] = json.object(fields)
  end
  return json.array(list)
end

-- The planning as JSON text, one entry per run, built directly for speed.
local function planning_text(state)
  local cache = setmetatable({}, {__index = function(cache, minutes)
    local text = dates.format(minutes)
    cache[minutes] = text
    return text
  end})
  local parts, n = {}, 0
  for _, agent in ipairs(sorted_keys(state.planning)) do
    local by_activity = state.planning[agent]
    for _, activity in ipairs(sorted_keys(by_activity)) do
      local head = '{"agent":' .. agent .. ',"activity":' .. activity
        .. ',"startTime":"'
      local runs = by_activity[activity]
      for i = 1, #runs, 2 do
        n = n + 1
        parts[n] = head .. cache[runs[i]] .. '","endTime":"'
          .. cache[runs[i + 1]] .. '"}'
      end
    end
  end
  return "[" .. table.concat(parts, ",\n") .. "]"
end

--- The state as JSON text in the fixture's format, plus `next_agent_id`
-- and password hashes (never a password in clear).
function store.encode(state)
  local tokens = {}
  for i, entry in ipairs(state.token_list) do
    tokens[i] = json.object{
      "token", entry.token, "apis", json.array(entry.api_list),
      "verbs", json.array(entry.verb_list), "active", entry.active,
    }
  end
  local parts = {}
  local key_order = {"result", "frontal_server", "id", "host", "ports",
    "http", "https", "session_servers", "port"}
  local function add(name, value)
    local text = type(value) == "string" and value
      or assert(json.encode(value, key_order))
    parts[#parts + 1] = string.format("%q:%s", name, text)
  end
  add("tokens", json.array(tokens))
  add("languages", json.array(state.languages))
  add("timezones", json.array(state.timezones))
  add("groups", labelled_list(state.groups, state.group_ids, true))
  add("teams", labelled_list(state.teams, state.team_ids, true))
  add("activities", labelled_list(state.activities, state.activity_ids))
  add("agents", agent_list(state))
  add("planning", planning_text(state))
  add("load_balancing", state.load_balancing)
  add("next_agent_id", string.format("%d", state.next_agent_id))
  return "{" .. table.concat(parts, ",\n") .. "}\n"
end

return store

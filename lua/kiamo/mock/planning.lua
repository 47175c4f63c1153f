-- kiamo.mock.planning: the activity planning endpoints. Validates a body
-- rule by rule in API.md's order, and keeps, per agent and activity, the
-- planned quarter hours as runs of minutes (see kiamo.mock.intervals).

local json = require "kiamo.mock.json"
local dates = require "kiamo.mock.dates"
local errors = require "kiamo.mock.errors"
local intervals = require "kiamo.mock.intervals"

local planning = {}

local is_object, is_array = json.is_object, json.is_array
local is_integer = json.is_integer
local invalid, missing, argument = errors.invalid, errors.missing,
  errors.argument

local QUARTER = 15

-- Each rule over every item before the next: returns the error of the
-- first item failing `ok`, or nil.
local function first_failure(list, ok, err)
  for i = 1, #list do
    if not ok(list[i]) then return err end
  end
  return nil
end

local function validate_periods(periods)
  if periods == nil then return nil, missing("periods") end
  if not is_array(periods) then return nil, invalid("periods: array") end
  if #periods == 0 then return nil, invalid("periods array empty") end
  local err = first_failure(periods, function(item)
      return is_object(item) and item.startTime ~= nil
    end, missing('"periods" array item "startTime"'))
    or first_failure(periods, function(item)
      return item.endTime ~= nil
    end, missing('"periods" array item "endTime"'))
  if err then return nil, err end
  local starts, stops = {}, {}
  for i, item in ipairs(periods) do
    starts[i] = dates.parse(item.startTime)
    if not starts[i] then
      return nil, invalid(
        "periods array item startTime: string format ISO 8601 UTC")
    end
  end
  for i, item in ipairs(periods) do
    stops[i] = dates.parse(item.endTime)
    if not stops[i] then
      return nil, invalid(
        "periods array item endTime: string format ISO 8601 UTC")
    end
  end
  local function on_quarter(minutes) return minutes % QUARTER == 0 end
  err = first_failure(starts, on_quarter, invalid(
      "periods array item startTime: string format not a quarter"))
    or first_failure(stops, on_quarter, invalid(
      "periods array item endTime: string format not a quarter"))
  if err then return nil, err end
  local result = {}
  for i = 1, #starts do
    if stops[i] <= starts[i] then
      return nil, argument(
        "periods array item: endTime not after startTime")
    end
    result[i] = {starts[i], stops[i]}
  end
  return result
end

-- The ids of a list, duplicates counted once, in first-seen order, after
-- rules "item: int" and "item: no match".
local function validate_ids(list, name, known)
  local err = first_failure(list, is_integer,
      invalid(name .. " array item: int"))
    or first_failure(list, function(id) return known[id] ~= nil end,
      argument(name .. " array item: no match"))
  if err then return nil, err end
  local ids, seen = {}, {}
  for _, id in ipairs(list) do
    if not seen[id] then
      seen[id] = true
      ids[#ids + 1] = id
    end
  end
  return ids
end

local function validate_activities(state, activities, verb)
  if activities == nil then return nil, missing("activities") end
  if not is_array(activities) then
    return nil, invalid("activities: array")
  end
  if #activities == 0 then
    if verb == "POST" then return nil, invalid("activities array empty") end
    return false
  end
  return validate_ids(activities, "activities", state.activities)
end

local function validate_selection(state, body, verb)
  local agents, team, group = body.agents, body.team, body.group
  if verb == "POST" then
    if agents == nil then return nil, missing("agents") end
    team, group = nil, nil
  else
    local present = (agents ~= nil and 1 or 0) + (team ~= nil and 1 or 0)
      + (group ~= nil and 1 or 0)
    if present == 0 then
      return nil, missing("agents or team or group")
    elseif present > 1 then
      return nil, argument("only one of agents or team or group")
    end
  end
  if agents ~= nil then
    if not is_array(agents) then return nil, invalid("agents: array") end
    if #agents == 0 then return nil, invalid("agents array empty") end
    local ids, err = validate_ids(agents, "agents", state.agents)
    if not ids then return nil, err end
    return {agents = ids}
  end
  local name, id = "team", team
  local known = state.teams
  if team == nil then name, id, known = "group", group, state.groups end
  if not is_integer(id) then return nil, invalid(name .. ": int") end
  if not known[id] then return nil, argument(name .. ": no match") end
  return {[name] = id}
end

--- Validates a planning body for `verb` (GET, POST or DELETE). Returns
-- {periods = {{start, stop}, ...}, activities = ids or false (all),
-- agents = ids | team = id | group = id}, or nil and an error body.
function planning.validate(state, body, verb)
  if not is_object(body) then return nil, invalid() end
  local periods, err = validate_periods(body.periods)
  if not periods then return nil, err end
  local activities
  activities, err = validate_activities(state, body.activities, verb)
  if activities == nil then return nil, err end
  local request
  request, err = validate_selection(state, body, verb)
  if not request then return nil, err end
  request.periods, request.activities = periods, activities
  return request
end

local function sorted(list)
  local copy = table.move(list, 1, #list, 1, {})
  table.sort(copy)
  return copy
end

-- The agent ids a GET or DELETE selects, ascending.
local function selected_agents(state, request)
  if request.agents then return sorted(request.agents) end
  local ids = {}
  for id, agent in pairs(state.agents) do
    if (request.team and agent.team == request.team)
        or (request.group and agent.group == request.group) then
      ids[#ids + 1] = id
    end
  end
  table.sort(ids)
  return ids
end

local function selected_activities(state, request)
  if request.activities then return sorted(request.activities) end
  return state.activity_ids
end

-- Formats minutes as a date, memoised for one request.
local function date_cache()
  return setmetatable({}, {__index = function(cache, minutes)
    local text = dates.format(minutes)
    cache[minutes] = text
    return text
  end})
end

local function period_prefix(cache, start, stop)
  return '{"period":{"startTime":"' .. cache[start] .. '","endTime":"'
    .. cache[stop] .. '"},"activity":'
end

--- A key naming the request, to bind a page cursor to it.
function planning.key(request)
  local parts = {}
  for _, period in ipairs(request.periods) do
    parts[#parts + 1] = period[1] .. "-" .. period[2]
  end
  parts[#parts + 1] = request.activities
    and table.concat(sorted(request.activities), ",") or "all"
  if request.agents then
    parts[#parts + 1] = "agents:" .. table.concat(sorted(request.agents), ",")
  elseif request.team then
    parts[#parts + 1] = "team:" .. tostring(request.team)
  else
    parts[#parts + 1] = "group:" .. tostring(request.group)
  end
  return table.concat(parts, ";")
end

--- Plans the request's periods; returns the entries as JSON texts, one per
-- period, activity and agent in request order.
function planning.post(state, request)
  local store, cache = state.planning, date_cache()
  local entries, n = {}, 0
  for _, period in ipairs(request.periods) do
    local start, stop = period[1], period[2]
    local prefix = period_prefix(cache, start, stop)
    for _, activity in ipairs(request.activities) do
      local head = prefix .. activity .. ',"agent":'
      for _, agent in ipairs(request.agents) do
        local by_activity = store[agent]
        if not by_activity then
          by_activity = {}
          store[agent] = by_activity
        end
        by_activity[activity] = intervals.add(by_activity[activity] or {},
          start, stop)
        n = n + 1
        entries[n] = head .. agent .. "}"
      end
    end
  end
  return entries
end

--- The entries a GET answers, as JSON texts, in API.md's order.
function planning.get(state, request)
  local store, cache = state.planning, date_cache()
  local agents = selected_agents(state, request)
  local activities = selected_activities(state, request)
  local entries, n = {}, 0
  for _, period in ipairs(request.periods) do
    for _, activity in ipairs(activities) do
      local tail = ',"activity":' .. activity .. ',"agent":'
      for _, agent in ipairs(agents) do
        local runs = store[agent] and store[agent][activity]
        if runs then
          intervals.each_overlap(runs, period[1], period[2],
            function(first, last)
              n = n + 1
              entries[n] = '{"period":{"startTime":"' .. cache[first]
                .. '","endTime":"' .. cache[last] .. '"}' .. tail .. agent
                .. "}"
            end)
        end
      end
    end
  end
  return entries
end

--- Removes the planned quarter hours inside the request's periods.
function planning.delete(state, request)
  local store = state.planning
  local agents = selected_agents(state, request)
  local activities = selected_activities(state, request)
  for _, agent in ipairs(agents) do
    local by_activity = store[agent]
    if by_activity then
      for _, activity in ipairs(activities) do
        local runs = by_activity[activity]
        if runs then
          for _, period in ipairs(request.periods) do
            runs = intervals.remove(runs, period[1], period[2])
          end
          by_activity[activity] = #runs > 0 and runs or nil
        end
      end
      if next(by_activity) == nil then store[agent] = nil end
    end
  end
end

return planning

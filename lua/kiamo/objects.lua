-- kiamo.objects: agent and planning-entry objects.
-- An object is an empty proxy table: its fields live in a private state
-- reached through a key only this module holds, so that methods always
-- win over fields of the same name. `obj.name` looks up the methods table
-- first, then the fields; `obj:fields()` returns a copy of every field,
-- shadowed ones included; `pairs(obj)` walks the fields; fields are
-- read-only (change an agent with `agent:update{...}`).

local core = require "kiamo.core"
local compat = require "kiamo.compat"

local objects = {}

local STATE = {}  -- the private key; its value is {session=, fields=}

local function state_of(obj, name)
  local state = type(obj) == "table" and rawget(obj, STATE)
  if not state then
    error(string.format("kiamo: %s: object expected", name), 3)
  end
  return state
end

-- True for a table that is not a decoded or marked JSON array.
local function is_object(v)
  return type(v) == "table" and getmetatable(v) ~= core.array_mt
end

local function copy_object(t)
  local copy = core.object({})
  for k, v in pairs(t) do copy[k] = v end
  return copy
end

-- Builds the metatable of an object type from its methods table.
local function object_type(name, methods)
  local mt = {__name = name}
  function mt.__index(obj, key)
    local method = methods[key]
    if method ~= nil then return method end
    return rawget(obj, STATE).fields[key]
  end
  function mt.__newindex(_, key)
    error(string.format("kiamo: %s fields are read-only (field %s)", name,
      tostring(key)), 2)
  end
  function mt.__pairs(obj)
    return next, rawget(obj, STATE).fields, nil
  end
  function methods.fields(obj)
    return copy_object(state_of(obj, "fields").fields)
  end
  return mt
end

local function new_object(mt, session, fields)
  return setmetatable({[STATE] = {session = session, fields = fields}}, mt)
end

-- Agents -------------------------------------------------------------

local AGENT_METHODS = {}
local AGENT = object_type("kiamo.Agent", AGENT_METHODS)

local NO_TEAM = {id = "", label = ""}

local function id_object(v)
  if compat.math_type(v) == "integer" then return core.object({id = v}) end
  if v == core.null or v == nil then return core.object(copy_object(NO_TEAM))
  end
  return v
end

-- The fields of an agent in the GET representation, whichever of the two
-- shapes the server answered. The other shape carries `localization`
-- {language, timezone}, `ids` {mail, login} and bare `group`/`team` ids;
-- its group and team become {id = n} (no label: the answer has none).
local function normalise_agent(value)
  local fields = copy_object(value)
  local other = value.localization ~= nil or value.ids ~= nil
    or compat.math_type(value.group) == "integer"
  if not other then return fields end
  local loc = value.localization
  if type(loc) == "table" then
    if fields.language == nil then fields.language = loc.language end
    if fields.timezone == nil then fields.timezone = loc.timezone end
    fields.localization = nil
  end
  local ids = value.ids
  if type(ids) == "table" then
    if fields.login == nil then fields.login = ids.login end
    if fields.email == nil then fields.email = ids.mail or ids.email end
    if fields.id == nil then fields.id = ids.id end
    fields.ids = nil
  end
  fields.group = id_object(fields.group)
  fields.team = id_object(fields.team)
  return fields
end

-- objects.agent(session, value, id) -> agent object, or nil if the
-- value is not a JSON object. `id` is used when the answer has none.
function objects.agent(session, value, id)
  if not is_object(value) then return nil end
  local fields = normalise_agent(value)
  if fields.id == nil then fields.id = id end
  return new_object(AGENT, session, fields)
end

objects.Agent = AGENT

function objects.is_agent(v)
  return getmetatable(v) == AGENT
end

local function agent_id(agent, name)
  local state = state_of(agent, name)
  local id = state.fields.id
  if id == nil then
    error(string.format("kiamo: %s: the agent has no id (the server's "
      .. "answer carried none)", name), 3)
  end
  return state.session, id, state
end

-- agent:update{...}: PATCH the fields, then refresh this object in place
-- from the answer. Returns the agent, or nil, err.
function AGENT_METHODS.update(agent, changes)
  local session, id, state = agent_id(agent, "update")
  local fresh, err = session:update_agent(id, changes)
  if not fresh then return nil, err end
  state.fields = rawget(fresh, STATE).fields
  return agent
end

-- agent:reload(): GET the agent again, refreshing this object in place.
function AGENT_METHODS.reload(agent)
  local session, id, state = agent_id(agent, "reload")
  local fresh, err = session:agent(id)
  if not fresh then return nil, err end
  state.fields = rawget(fresh, STATE).fields
  return agent
end

-- agent:delete() -> true, or nil, err.
function AGENT_METHODS.delete(agent)
  local session, id = agent_id(agent, "delete")
  return session:delete_agent(id)
end

function AGENT.__tostring(agent)
  local f = rawget(agent, STATE).fields
  return string.format("kiamo.Agent %s (%s, login %s)", tostring(f.id),
    tostring(f.last_name), tostring(f.login))
end

-- Planning entries -----------------------------------------------------

local ENTRY_METHODS = {}
local ENTRY = object_type("kiamo.PlanningEntry", ENTRY_METHODS)

function objects.entry(session, value)
  if not is_object(value) then return nil end
  return new_object(ENTRY, session, copy_object(value))
end

objects.PlanningEntry = ENTRY

function objects.is_entry(v)
  return getmetatable(v) == ENTRY
end

-- entry:delete(): DELETE the planning of this entry's period, activity
-- and agent. Returns true, or nil, err.
function ENTRY_METHODS.delete(entry)
  local state = state_of(entry, "delete")
  local f = state.fields
  return state.session:delete_planning{periods = {f.period},
    activities = {f.activity}, agents = {f.agent}}
end

function ENTRY.__tostring(entry)
  local f = rawget(entry, STATE).fields
  local period = type(f.period) == "table" and f.period or {}
  return string.format("kiamo.PlanningEntry %s..%s activity %s agent %s",
    tostring(period.startTime), tostring(period.endTime),
    tostring(f.activity), tostring(f.agent))
end

return objects

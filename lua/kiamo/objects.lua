-- kiamo.objects: agent and planning-entry objects.
-- An object is a proxy table holding only its fields table and its
-- session, under keys only this module holds, so that methods always win
-- over fields of the same name. The fields table is the decoded answer
-- itself, adopted rather than copied. `obj.name` looks up the methods table
-- first, then the fields; `obj:fields()` returns a copy of every field,
-- shadowed ones included; `pairs(obj)` walks the fields; fields are
-- read-only (change an agent with `agent:update{...}`).

local core = require "kiamo.core"
local compat = require "kiamo.compat"

local objects = {}

local FIELDS, SESSION = {}, {}  -- the private keys

-- The fields of an object; raises (blaming the caller of 'name') when
-- obj is not one.
local function fields_of(obj, name)
  local fields = type(obj) == "table" and rawget(obj, FIELDS)
  if not fields then
    error(string.format("kiamo: %s: object expected", name), 3)
  end
  return fields
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
    return rawget(obj, FIELDS)[key]
  end
  function mt.__newindex(_, key)
    error(string.format("kiamo: %s fields are read-only (field %s)", name,
      tostring(key)), 2)
  end
  function mt.__pairs(obj)
    return next, rawget(obj, FIELDS), nil
  end
  function methods.fields(obj)
    return copy_object(fields_of(obj, "fields"))
  end
  return mt
end

local function new_object(mt, session, fields)
  return setmetatable({[FIELDS] = fields, [SESSION] = session}, mt)
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
-- shapes the server answered: the decoded answer itself, changed in
-- place for the other shape. The other shape carries `localization`
-- {language, timezone}, `ids` {mail, login} and bare `group`/`team` ids;
-- its group and team become {id = n} (no label: the answer has none).
local function normalise_agent(value)
  local fields = value
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
  local id = fields_of(agent, name).id
  if id == nil then
    error(string.format("kiamo: %s: the agent has no id (the server's "
      .. "answer carried none)", name), 3)
  end
  return rawget(agent, SESSION), id
end

-- agent:update{...}: PATCH the fields, then refresh this object in place
-- from the answer. Returns the agent, or nil, err.
function AGENT_METHODS.update(agent, changes)
  local session, id = agent_id(agent, "update")
  local fresh, err = session:update_agent(id, changes)
  if not fresh then return nil, err end
  rawset(agent, FIELDS, rawget(fresh, FIELDS))
  return agent
end

-- agent:reload(): GET the agent again, refreshing this object in place.
function AGENT_METHODS.reload(agent)
  local session, id = agent_id(agent, "reload")
  local fresh, err = session:agent(id)
  if not fresh then return nil, err end
  rawset(agent, FIELDS, rawget(fresh, FIELDS))
  return agent
end

-- agent:delete() -> true, or nil, err.
function AGENT_METHODS.delete(agent)
  local session, id = agent_id(agent, "delete")
  return session:delete_agent(id)
end

function AGENT.__tostring(agent)
  local f = rawget(agent, FIELDS)
  return string.format("kiamo.Agent %s (%s, login %s)", tostring(f.id),
    tostring(f.last_name), tostring(f.login))
end

-- Planning entries -----------------------------------------------------

local ENTRY_METHODS = {}
local ENTRY = object_type("kiamo.PlanningEntry", ENTRY_METHODS)

-- objects.entry(session, value) -> entry object adopting the decoded
-- value as its fields, or nil if the value is not a JSON object.
function objects.entry(session, value)
  if not is_object(value) then return nil end
  return new_object(ENTRY, session, value)
end

objects.PlanningEntry = ENTRY

function objects.is_entry(v)
  return getmetatable(v) == ENTRY
end

-- entry:delete(): DELETE the planning of this entry's period, activity
-- and agent. Returns true, or nil, err.
function ENTRY_METHODS.delete(entry)
  local f = fields_of(entry, "delete")
  return rawget(entry, SESSION):delete_planning{periods = {f.period},
    activities = {f.activity}, agents = {f.agent}}
end

function ENTRY.__tostring(entry)
  local f = rawget(entry, FIELDS)
  local period = type(f.period) == "table" and f.period or {}
  return string.format("kiamo.PlanningEntry %s..%s activity %s agent %s",
    tostring(period.startTime), tostring(period.endTime),
    tostring(f.activity), tostring(f.agent))
end

return objects

-- kiamo.mock.agents: the agent endpoints. Validates POST and PATCH bodies
-- in API.md's order (required fields missing, then each present field in
-- the order of its Fields list), applies them, and builds the GET
-- representation.

local json = require "kiamo.mock.json"
local errors = require "kiamo.mock.errors"
local sha256 = require "kiamo.mock.sha256"

local agents = {}

local is_object, is_integer = json.is_object, json.is_integer
local invalid, missing, argument = errors.invalid, errors.missing,
  errors.argument

local REQUIRED = {"last_name", "login", "group"}
local TIMEZONE_TYPES = {group = true, team = true, custom = true}
local PASSWORD_STRINGS = {["true"] = true, ["false"] = false}
local SALT_BYTES = 16

local function is_string(v) return type(v) == "string" end

-- Each check returns an error body or nil; `target` is the agent being
-- changed (nil on POST), so that its own login is not a conflict.
local FIELD_CHECKS = {
  {"last_name", function(v)
    if not is_string(v) then return invalid("last_name: string") end
  end},
  {"login", function(v, state, target)
    if not is_string(v) then return invalid("login: string") end
    local owner = state.logins[v]
    if owner and owner ~= target then
      return argument("login: already used")
    end
  end},
  {"group", function(v, state)
    if not is_integer(v) then return invalid("group: int") end
    if not state.groups[v] then return argument("group: no match") end
  end},
  {"password", function(v)
    if not is_string(v) then return invalid("password: string") end
  end},
  {"must_update_password", function(v)
    if type(v) ~= "boolean" and PASSWORD_STRINGS[v] == nil then
      return invalid("must_update_password: boolean")
    end
  end},
  {"email", function(v)
    if not is_string(v) then return invalid("email: string") end
  end},
  {"team", function(v, state)
    if v == json.null then return nil end
    if not is_integer(v) then return invalid("team: int") end
    if not state.teams[v] then return argument("team: no match") end
  end},
  {"language", function(v, state)
    if not is_string(v) then return invalid("language: string") end
    if not state.language_set[v] then
      return argument("language: no match")
    end
  end},
  {"timezone_type", function(v)
    if not is_string(v) then return invalid("timezone_type: string") end
    if not TIMEZONE_TYPES[v] then
      return argument("timezone_type: no match")
    end
  end},
  {"timezone_code", function(v, state)
    if not is_string(v) then return invalid("timezone_code: string") end
    if not state.timezone_set[v] then
      return argument("timezone_code: no match")
    end
  end},
  {"first_name", function(v)
    if not is_string(v) then return invalid("first_name: string") end
  end},
}

local function validate(state, body, target)
  if not is_object(body) then return invalid() end
  for _, name in ipairs(REQUIRED) do
    local value = body[name]
    if (value == nil and not target)
        or (value == "" and name ~= "group") then
      return missing(name)
    end
  end
  for _, check in ipairs(FIELD_CHECKS) do
    local value = body[check[1]]
    if value ~= nil then
      local err = check[2](value, state, target)
      if err then return err end
    end
  end
  local timezone_type = body.timezone_type
    or (target and target.timezone_type) or "group"
  local timezone_code = body.timezone_code
    or (target and target.timezone_code)
  if timezone_type == "custom" and not timezone_code then
    return missing("timezone_code")
  end
  return nil
end

local function random_hex(bytes)
  local parts = {}
  for i = 1, bytes do parts[i] = string.format("%02x", math.random(0, 255)) end
  return table.concat(parts)
end

--- The stored form of a password: a fresh salt and SHA-256(salt..password).
function agents.hash_password(password)
  local salt = random_hex(SALT_BYTES)
  return salt, sha256.hex(salt .. password)
end

local function apply(state, agent, body)
  for _, name in ipairs{"first_name", "last_name", "email", "language",
      "timezone_type", "timezone_code"} do
    if body[name] ~= nil then agent[name] = body[name] end
  end
  if body.login ~= nil and body.login ~= agent.login then
    if agent.login then state.logins[agent.login] = nil end
    agent.login = body.login
    state.logins[agent.login] = agent
  end
  if body.group ~= nil then agent.group = body.group end
  if body.team == json.null then
    agent.team = nil
  elseif body.team ~= nil then
    agent.team = body.team
  end
  local must_update = body.must_update_password
  if must_update ~= nil then
    if type(must_update) == "string" then
      must_update = PASSWORD_STRINGS[must_update]
    end
    agent.must_update_password = must_update
  end
  if body.password ~= nil then
    agent.password_salt, agent.password_sha256 =
      agents.hash_password(body.password)
  end
  agent.json = nil
end

--- Creates an agent from a POST body; returns it, or nil and an error.
function agents.create(state, body)
  local err = validate(state, body, nil)
  if err then return nil, err end
  local agent = {
    id = state.next_agent_id, first_name = "", email = "",
    language = state.languages[1], timezone_type = "group",
    must_update_password = false,
  }
  state.next_agent_id = state.next_agent_id + 1
  apply(state, agent, body)
  state.agents[agent.id] = agent
  return agent
end

--- Changes an agent from a PATCH body; returns it, or nil and an error.
function agents.update(state, agent, body)
  local err = validate(state, body, agent)
  if err then return nil, err end
  apply(state, agent, body)
  return agent
end

--- Deletes an agent and its planning; its id is never given again.
function agents.delete(state, agent)
  state.agents[agent.id] = nil
  state.logins[agent.login] = nil
  state.planning[agent.id] = nil
end

--- The time zone an agent works in, after API.md's fallbacks.
function agents.timezone(state, agent)
  if agent.timezone_type == "custom" then return agent.timezone_code end
  if agent.timezone_type == "team" and agent.team then
    return state.teams[agent.team].timezone
  end
  return state.groups[agent.group].timezone
end

--- The agent as GET returns it, as JSON text (kept until it changes).
function agents.representation(state, agent)
  if agent.json then return agent.json end
  local group, team = state.groups[agent.group], state.teams[agent.team]
  local team_json = team and json.object{"id", team.id, "label", team.label}
    or json.object{"id", "", "label", ""}
  agent.json = assert(json.encode(json.object{
    "id", agent.id,
    "first_name", agent.first_name,
    "last_name", agent.last_name,
    "login", agent.login,
    "email", agent.email,
    "language", agent.language,
    "timezone", agents.timezone(state, agent),
    "group", json.object{"id", group.id, "label", group.label},
    "team", team_json,
    "avatar", json.object{"color", "grey", "url", json.null},
    "preferences", json.array{},
  }))
  return agent.json
end

return agents

-- kiamo.mock: an in-memory emulator of the Kiamo API v3 as API.md reads
-- it. An application takes a request table and returns status, headers and
-- body; it does no I/O except reading its fixture and writing its state
-- file. Adapters (the HTTP server, an in-process transport) wrap it.

local json = require "kiamo.mock.json"
local store = require "kiamo.mock.store"
local planning = require "kiamo.mock.planning"
local agents = require "kiamo.mock.agents"

local mock = {_VERSION = "0.1.0"}

local App = {}
App.__index = App
App.__name = "kiamo.mock.App"

local PAGE = {default = 100, max = 1000}
local CURSORS = {
  max_snapshots = 1024,      -- page snapshots kept at once
  max_entries = 500000,      -- entries kept over all snapshots
  max_age = 900,             -- seconds a snapshot lives
}
-- API.md's order for the keys of a load-balancing answer.
local LOAD_BALANCING_KEYS = {"result", "frontal_server", "id", "host",
  "ports", "http", "https", "session_servers", "port"}
local RIGHTS = {GET = "GET", POST = "POST", PUT = "PUT", PATCH = "PUT",
  DELETE = "DELETE"}
local ALL_APIS = {"activity_planning", "agent", "contact_manager",
  "interaction", "supervision"}
local ALL_VERBS = {"GET", "POST", "PUT", "DELETE"}
local INFO = {
  not_found = '{"info":"Not found"}',
  not_allowed = '{"info":"Method not allowed"}',
  unauthorized = '{"info":"The authentication token is not valid"}',
  forbidden = '{"info":"Wrong access rights"}',
  no_agent = '{"info":"The agent does not exist"}',
  no_app = '{"code":"ERR_1020","info":"Arguments are invalid: app: no match"}',
  not_saved = '{"info":"The state could not be saved"}',
  next_id = '{"code":"ERR_1020","info":"Arguments are invalid: next_id: '
    .. 'no match"}',
  per_page = '{"code":"ERR_1000","info":"The json supplied is invalid: '
    .. 'per_page: int"}',
}

local function reply(status, body)
  if body == nil or body == "" then return status, {}, "" end
  return status, {["Content-Type"] = "application/json"}, body
end

local function reply_error(err)
  return reply(400, assert(json.encode(json.object{
    "code", err.code, "info", err.info})))
end

local function percent_decode(text)
  return (text:gsub("%%(%x%x)", function(hex)
    return string.char(tonumber(hex, 16))
  end))
end

local function query_value(query, name)
  if type(query) ~= "string" then return nil end
  for pair in query:gmatch("[^&]+") do
    local key, value = pair:match("^([^=]*)=?(.*)$")
    if percent_decode(key) == name then return percent_decode(value) end
  end
  return nil
end

local function decode_body(body)
  if type(body) ~= "string" or body == "" then return nil end
  return (json.decode(body))
end

-- Routes -----------------------------------------------------------------

local handlers = {}

local ROUTES = {
  planning = {api = "activity_planning", allow = "GET, POST, DELETE",
    methods = {GET = true, POST = true, DELETE = true}},
  agents = {api = "agent", allow = "POST", methods = {POST = true}},
  agent = {api = "agent", allow = "GET, PATCH, DELETE",
    methods = {GET = true, PATCH = true, DELETE = true}},
  load_balancing = {allow = "GET", methods = {GET = true}},
}

-- The route of a path and its parameter (percent-decoded), or nil.
local function match_route(path)
  if type(path) ~= "string" then return nil end
  local rest = path:match("^/api/v3(/.*)$")
  if not rest then return nil end
  local segments = {}
  for segment in rest:gmatch("/([^/]*)") do
    if segment == "" then return nil end
    segments[#segments + 1] = percent_decode(segment)
  end
  local first, count = segments[1], #segments
  if count == 2 and first == "activities" and segments[2] == "planning" then
    return "planning"
  elseif count == 1 and first == "agents" then
    return "agents"
  elseif count == 2 and first == "agents" then
    return "agent", segments[2]
  elseif count == 2 and first == "load-balancing" then
    return "load_balancing", segments[2]
  end
  return nil
end

-- Pagination -------------------------------------------------------------

function App:forget_snapshot(tag)
  local snapshot = self.snapshots[tag]
  if snapshot then
    self.snapshots[tag] = nil
    self.snapshot_count = self.snapshot_count - 1
    self.snapshot_entries = self.snapshot_entries - #snapshot.entries
  end
end

function App:evict_snapshots(now)
  local order = self.snapshot_order
  while self.snapshot_first <= #order do
    local tag = order[self.snapshot_first]
    local snapshot = self.snapshots[tag]
    if snapshot and now - snapshot.created <= CURSORS.max_age
        and self.snapshot_count <= CURSORS.max_snapshots
        and self.snapshot_entries <= CURSORS.max_entries then
      break
    end
    self:forget_snapshot(tag)
    order[self.snapshot_first] = nil
    self.snapshot_first = self.snapshot_first + 1
  end
end

function App:new_snapshot(key, entries)
  local now = self.clock()
  self.snapshot_serial = self.snapshot_serial + 1
  local tag = string.format("%x%08x", self.snapshot_serial,
    math.random(0, 0xffffffff))
  local snapshot = {key = key, entries = entries, created = now}
  self.snapshots[tag] = snapshot
  self.snapshot_count = self.snapshot_count + 1
  self.snapshot_entries = self.snapshot_entries + #entries
  local order = self.snapshot_order
  order[#order + 1] = tag
  self:evict_snapshots(now)
  return tag, snapshot
end

-- The snapshot and offset a next_id names for this request, or nil.
function App:find_page(next_id, key)
  local tag, offset = next_id:match("^(%x+)%.(%d+)$")
  local snapshot = tag and self.snapshots[tag]
  if not snapshot or snapshot.key ~= key then return nil end
  if self.clock() - snapshot.created > CURSORS.max_age then
    self:forget_snapshot(tag)
    return nil
  end
  offset = math.tointeger(tonumber(offset))
  if not offset or offset >= #snapshot.entries and offset ~= 0 then
    return nil
  end
  return tag, snapshot, offset
end

local function page_body(tag, snapshot, offset, per_page)
  local entries = snapshot.entries
  local total = #entries
  local last = math.min(offset + per_page, total)
  local function id(at) return tag .. "." .. at end
  local cursor = json.object{
    "current", id(offset),
    "prev", offset > 0 and id(math.max(0, offset - per_page)) or json.null,
    "next", last < total and id(last) or json.null,
    "count", last - offset,
  }
  return '{"data":[' .. table.concat(entries, ",", offset + 1, last)
    .. '],"meta":{"cursor":' .. assert(json.encode(cursor)) .. "}}"
end

-- Handlers ---------------------------------------------------------------

function handlers.planning(self, request, token)
  local method = request.method
  local parsed, err = planning.validate(self.state, decode_body(request.body),
    method)
  if not parsed then return reply_error(err) end
  if method == "POST" then
    local entries = planning.post(self.state, parsed)
    return self:changed(200, '{"data":[' .. table.concat(entries, ",")
      .. '],"meta":{}}')
  elseif method == "DELETE" then
    planning.delete(self.state, parsed)
    return self:changed(204, "")
  end
  local per_page = PAGE.default
  local per_page_text = query_value(request.query, "per_page")
  if per_page_text then
    per_page = per_page_text:match("^%d+$") and tonumber(per_page_text)
    if not per_page or per_page < 1 or per_page > PAGE.max then
      return reply(400, INFO.per_page)
    end
    per_page = math.tointeger(per_page)
  end
  local key = token .. "\n" .. planning.key(parsed)
  local next_id = query_value(request.query, "next_id")
  local tag, snapshot, offset
  if next_id then
    tag, snapshot, offset = self:find_page(next_id, key)
    if not tag then return reply(400, INFO.next_id) end
  else
    tag, snapshot = self:new_snapshot(key, planning.get(self.state, parsed))
    offset = 0
  end
  return reply(200, page_body(tag, snapshot, offset, per_page))
end

function handlers.agents(self, request)
  local agent, err = agents.create(self.state, decode_body(request.body))
  if not agent then return reply_error(err) end
  return self:changed(201, agents.representation(self.state, agent))
end

function handlers.agent(self, request, _, id_text)
  local id = id_text:match("^[1-9]%d*$") and math.tointeger(tonumber(id_text))
  local agent = id and self.state.agents[id]
  if not agent then return reply(404, INFO.no_agent) end
  local method = request.method
  if method == "GET" then
    return reply(200, agents.representation(self.state, agent))
  elseif method == "DELETE" then
    agents.delete(self.state, agent)
    return self:changed(201, "")
  end
  local err
  agent, err = agents.update(self.state, agent, decode_body(request.body))
  if not agent then return reply_error(err) end
  return self:changed(200, agents.representation(self.state, agent))
end

function handlers.load_balancing(self, _, _, app)
  local answer = self.load_balancing[app]
  if not answer then return reply(404, INFO.no_app) end
  return reply(200, answer)
end

-- The application --------------------------------------------------------

-- Writes the state file, if any, atomically; true, or nil and an error.
function App:save()
  local path = self.state_file
  if not path then return true end
  local temporary = path .. ".tmp"
  local file, err = io.open(temporary, "wb")
  if not file then return nil, err end
  local ok, write_err = file:write(store.encode(self.state))
  if ok then ok, write_err = file:flush() end
  file:close()
  if ok then ok, write_err = os.rename(temporary, path) end
  if not ok then
    os.remove(temporary)
    return nil, write_err
  end
  return true
end

function App:changed(status, body)
  if not self:save() then return reply(500, INFO.not_saved) end
  return reply(status, body)
end

-- The token's entry if it may use `route` with `method`: nil and a
-- status (401 or 403) otherwise.
function App:authorize(headers, route, method)
  local token = type(headers) == "table" and headers["kiamo-api-token"]
  local entry = type(token) == "string"
    and (self.extra_tokens[token] or self.state.tokens[token])
  if not entry or not entry.active then return nil, 401 end
  if route.api and not entry.apis[route.api] then return nil, 401 end
  if not entry.verbs[RIGHTS[method]] then return nil, 403 end
  return token
end

--- Answers one request: {method, path, query, headers, body} with header
-- names in lower case. Returns status, headers, body ("" when none).
function App:handle(request)
  local name, parameter = match_route(request.path)
  local route = ROUTES[name]
  if not route then return reply(404, INFO.not_found) end
  local method = request.method
  if not route.methods[method] then
    local status, headers, body = reply(405, INFO.not_allowed)
    headers.Allow = route.allow
    return status, headers, body
  end
  local token, status = self:authorize(request.headers, route, method)
  if not token then
    return reply(status, status == 401 and INFO.unauthorized
      or INFO.forbidden)
  end
  return handlers[name](self, request, token, parameter)
end

--- Nothing to release; present so that adapters can call it.
function App:close()
  self.snapshots, self.snapshot_order = {}, {}
  self.snapshot_first, self.snapshot_count, self.snapshot_entries = 1, 0, 0
end

local function read_file(path)
  local file, err = io.open(path, "rb")
  if not file then return nil, err end
  local text, read_err = file:read("a")
  file:close()
  if not text then return nil, path .. ": " .. tostring(read_err) end
  return text
end

local function decode_file(path)
  local text, err = read_file(path)
  if not text then return nil, err end
  local doc
  doc, err = json.decode(text)
  if doc == nil then return nil, path .. ": " .. err end
  return doc
end

--- The path of the default fixture shipped beside this module, or nil.
function mock.default_fixture()
  local path = package.path:gsub("%.lua%f[;\0]", ".json")
  local found = package.searchpath("kiamo.mock.fixture", path)
  if found then return found end
  local source = debug.getinfo(1, "S").source
  if source:sub(1, 1) == "@" then
    local candidate = (source:sub(2):match("^(.*)[/\\]") or ".")
      .. "/fixture.json"
    local file = io.open(candidate, "rb")
    if file then
      file:close()
      return candidate
    end
  end
  return nil
end

local function extra_tokens(list)
  local tokens = {}
  local apis = {}
  for _, name in ipairs(ALL_APIS) do apis[name] = true end
  for i, item in ipairs(list or {}) do
    local where = string.format("tokens[%d]", i)
    if type(item) ~= "table" or type(item.token) ~= "string"
        or not item.token:match("^" .. string.rep("%x", 40) .. "$") then
      return nil, where .. ": 40 hexadecimal characters expected"
    end
    local verbs = {}
    for _, verb in ipairs(item.verbs or ALL_VERBS) do
      if not RIGHTS[verb] or verb == "PATCH" then
        return nil, string.format("%s: unknown verb %q", where,
          tostring(verb))
      end
      verbs[verb] = true
    end
    tokens[item.token] = {token = item.token, active = true, apis = apis,
      verbs = verbs}
  end
  return tokens
end

-- The state to start from: the state file when it exists, else the
-- fixture; second result true when the state file must be created.
local function initial_state(options)
  if options.state_file then
    local file, _, code = io.open(options.state_file, "rb")
    if file then
      file:close()
      local doc, err = decode_file(options.state_file)
      if doc == nil then return nil, err end
      return store.load(doc, options.state_file)
    elseif code ~= 2 then
      return nil, options.state_file .. ": cannot be read"
    end
  end
  local doc, source = options.fixture, "fixture"
  if doc == nil then
    source = options.fixture_file or mock.default_fixture()
    if not source then return nil, "kiamo.mock: default fixture not found" end
    local err
    doc, err = decode_file(source)
    if doc == nil then return nil, err end
  end
  local state, err = store.load(doc, source)
  if not state then return nil, err end
  return state, options.state_file ~= nil
end

--- A new application. Options: fixture (a decoded table) or fixture_file
-- (a path), state_file, tokens ({{token = hex, verbs = {...}}}), clock
-- (seconds, default os.time). Returns it, or nil and an error naming the
-- file and the field.
function mock.new(options)
  options = options or {}
  if options.fixture ~= nil and options.fixture_file ~= nil then
    error("kiamo.mock.new: fixture and fixture_file are exclusive", 2)
  end
  local tokens, token_err = extra_tokens(options.tokens)
  if not tokens then return nil, token_err end
  local state, create = initial_state(options)
  if not state then return nil, create end
  local self = setmetatable({
    state = state, state_file = options.state_file,
    extra_tokens = tokens, clock = options.clock or os.time,
    load_balancing = {}, snapshot_serial = 0,
  }, App)
  self:close()
  for app, answer in pairs(state.load_balancing) do
    self.load_balancing[app] = assert(json.encode(answer,
      LOAD_BALANCING_KEYS))
  end
  if create then
    local ok, err = self:save()
    if not ok then return nil, options.state_file .. ": " .. tostring(err) end
  end
  return self
end

mock.json = json
mock.App = App

return mock

-- kiamo: scripting the Kiamo contact-centre API v3.
-- The public module: sessions (the C core's kiamo.Session userdata, with
-- the methods below added to its methods table), period and schedule
-- builders, the error object and the JSON markers.
--
-- Errors: misuse (wrong argument types, a closed session) raises with a
-- message naming the argument; failures a script handles (network, HTTP
-- errors, answers that are not JSON) return nil, err with err a
-- kiamo.Error. on_event(e) runs after each attempt, once its result is
-- complete; an error it raises is the caller's bug and propagates from
-- the method that made the request (the request itself is over).

local core = require "kiamo.core"
local compat = require "kiamo.compat"
local time = require "kiamo.time"
local Error = require "kiamo.error"
local objects = require "kiamo.objects"
local scheduler = require "kiamo.scheduler"

local math_type, tointeger = compat.math_type, compat.tointeger

local kiamo = {}

kiamo._VERSION = "kiamo 0.1.0"
kiamo.null = core.null
kiamo.array = core.array
kiamo.object = core.object
kiamo.integer = core.integer
kiamo.Error = Error
kiamo.Session = core.Session
kiamo.schedule = time.schedule
kiamo.Agent = objects.Agent
kiamo.PlanningEntry = objects.PlanningEntry
kiamo.is_agent = objects.is_agent
kiamo.is_entry = objects.is_entry

function kiamo.period(start, stop)
  return time.period(start, stop)
end

local Session = core.Session

-- s:run, s:spawn, s:poll, s:concurrency: requests in flight together.
for name, method in pairs(scheduler.methods) do Session[name] = method end

local CORE_OPTIONS = {
  url = true, token = true, version = true, timeout = true,
  connect_timeout = true, ca_file = true, verify = true, proxy = true,
  user_agent = true, max_body = true,
}
local LUA_OPTIONS = {
  on_event = "function", transport = "function",
  cursor_param = "string", per_page_param = "string",
  retries = "number", backoff = "number", backoff_max = "number",
  retry_after_max = "number",
}
local DEFAULTS = {
  cursor_param = "next_id", per_page_param = "per_page",
  retries = 2,              -- attempts after the first
  backoff = 0.25,           -- seconds before the first retry, doubling
  backoff_max = 8,          -- the most a backoff waits
  retry_after_max = 30,     -- the most a Retry-After is honoured
  verify = true,
}
local TRANSPORT_KINDS = {
  timeout = true, connect = true, tls = true, transport = true,
}

local function raise(where, fmt, ...)
  error(string.format("kiamo: %s: " .. fmt, where, ...), 0)
end

local function describe(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

-- Session ------------------------------------------------------------

-- An environment variable, nil when unset or empty.
local function environment(name)
  local v = os.getenv(name)
  if v == "" then return nil end
  return v
end

-- kiamo.session{url=, token=, ...} -> kiamo.Session. url and token
-- default to KIAMO_URL and KIAMO_API_TOKEN.
function kiamo.session(args)
  if args == nil then args = {} end
  if type(args) ~= "table" then
    error("kiamo.session: argument must be a table of options", 0)
  end
  local core_args, lua_opts = {}, {}
  for k, v in pairs(args) do
    if LUA_OPTIONS[k] then
      if type(v) ~= LUA_OPTIONS[k] then
        error(string.format("kiamo.session: %s must be a %s, got %s", k,
          LUA_OPTIONS[k], type(v)), 0)
      end
      lua_opts[k] = v
    elseif CORE_OPTIONS[k] then
      core_args[k] = v
    else
      error(string.format("kiamo.session: unknown option %s",
        describe(k)), 0)
    end
  end
  for name, default in pairs(DEFAULTS) do
    if lua_opts[name] == nil then lua_opts[name] = default end
  end
  if math_type(lua_opts.retries) ~= "integer" or lua_opts.retries < 0 then
    error("kiamo.session: retries must be an integer >= 0", 0)
  end
  for _, name in ipairs{"backoff", "backoff_max", "retry_after_max"} do
    if not (lua_opts[name] >= 0 and lua_opts[name] < math.huge) then
      error(string.format("kiamo.session: %s must be a number of seconds "
        .. ">= 0", name), 0)
    end
  end
  lua_opts.verify = core_args.verify ~= false
  for _, name in ipairs{"cursor_param", "per_page_param"} do
    local v = lua_opts[name]
    if not v:match("^[%w_.~-]+$") then
      error(string.format("kiamo.session: %s %s is not a query parameter "
        .. "name", name, describe(v)), 0)
    end
    lua_opts[name] = v
  end
  if core_args.url == nil then core_args.url = environment("KIAMO_URL") end
  if core_args.token == nil then
    core_args.token = environment("KIAMO_API_TOKEN")
  end
  if type(core_args.url) ~= "string" then
    error("kiamo.session: url is missing (give url or set KIAMO_URL)", 0)
  end
  local token = core_args.token
  if token == nil then
    error("kiamo.session: token is missing (give token or set "
      .. "KIAMO_API_TOKEN)", 0)
  end
  if type(token) ~= "string" or #token ~= 40 or not token:match("^%x+$")
  then
    error("kiamo.session: token must be 40 hexadecimal characters", 0)
  end
  local s = core.session(core_args)
  s:data().options = lua_opts  -- goes with the session
  return s
end

local function options_of(s)
  return s:data().options or DEFAULTS
end

-- Requests -----------------------------------------------------------

-- A response is the C request itself once it has completed (its methods
-- status, body, header, seconds, decode, method and url), or for a
-- transport written in Lua a table with the same methods.
local TransportResponse = {__name = "kiamo.TransportResponse"}
TransportResponse.__index = TransportResponse

function TransportResponse:status() return self.code end
function TransportResponse:body() return self.text end
function TransportResponse:seconds() return self.elapsed end
function TransportResponse:method() return self.req:method() end
function TransportResponse:url() return self.req:url() end

function TransportResponse:header(name)
  return self.headers[name:lower()]
end

-- As req:decode(): nil when the body is empty or blank.
function TransportResponse:decode()
  if not self.text:find("[^ \t\r\n]") then return nil end
  return core.decode(self.text)
end

-- Lower-cases a transport's header table for case-insensitive lookup.
local function lower_headers(headers)
  local lower = {}
  if type(headers) == "table" then
    for k, v in pairs(headers) do
      if type(k) == "string" then lower[k:lower()] = tostring(v) end
    end
  end
  return lower
end

-- Runs one prepared request through the session's transport. Returns a
-- response, or nil, err, seconds, retriable (whether another attempt may
-- not meet the same failure).
local function run(s, opts, req, method)
  if opts.transport then
    local started = core.now()
    local status, headers, body = opts.transport(req:info())
    local seconds = core.now() - started
    if status == nil then
      local kind = TRANSPORT_KINDS[headers] and headers or "transport"
      return nil, Error.new{kind = kind, message = tostring(body or headers),
        method = method, url = req:url()}, seconds, kind ~= "tls"
    end
    if math_type(status) ~= "integer" or status < 100 or status > 599 then
      error("kiamo: transport must return an integer HTTP status, got "
        .. describe(status), 0)
    end
    if body ~= nil and type(body) ~= "string" then
      error("kiamo: transport must return the body as a string, got "
        .. type(body), 0)
    end
    return setmetatable({req = req, code = status, text = body or "",
                         headers = lower_headers(headers),
                         elapsed = seconds}, TransportResponse)
  end
  local ok, kind, message, retriable = scheduler.perform(s, req)
  if not ok then
    return nil, Error.new{kind = kind, message = message, method = method,
      url = req:url()}, req:seconds(), retriable
  end
  return req
end

-- The value of a response: decoded JSON, or true for an empty 2xx body;
-- nil, err for an HTTP error or a 2xx body that is not JSON. A successful
-- answer is decoded from the response's own buffer: its body becomes a
-- Lua string only for an error.
local function interpret(res, status, method)
  if status >= 200 and status < 300 then
    if status == 204 then return true end
    local value, message = res:decode()
    if value ~= nil then return value end
    local body = res:body()
    if body == "" then return true end
    if message == nil then  -- blank: the message core.decode gives it
      message = select(2, core.decode(body))
    end
    return nil, Error.new{kind = "decode", status = status,
      message = message or "empty answer", method = method, url = res:url(),
      body = body}
  end
  local body = res:body()
  local fields = {kind = "http", status = status, method = method,
                  url = res:url(), body = body}
  local value = core.decode(body)
  if type(value) == "table" then
    if type(value.code) == "string" then fields.code = value.code end
    if type(value.info) == "string" then fields.info = value.info end
  end
  return nil, Error.new(fields)
end

-- Retries -------------------------------------------------------------

-- Methods that may be sent again whatever became of the first attempt;
-- others (POST, PATCH) only when the server was never reached.
local IDEMPOTENT = {GET = true, DELETE = true, HEAD = true, PUT = true,
                    OPTIONS = true}
local RETRY_STATUS = {[429] = true, [502] = true, [503] = true,
                      [504] = true}
local RETRY_AFTER_STATUS = {[429] = true, [503] = true}

local MONTHS = {Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6,
                Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12}

-- Seconds to wait from a Retry-After value: delay-seconds or an
-- HTTP-date ("Sun, 06 Nov 1994 08:49:37 GMT"); nil when unreadable.
local function retry_after_seconds(value)
  if value == nil then return nil end
  -- repeated headers arrive joined by ", ": the first one counts
  local n = value:match("^%s*(%d+)%s*$") or value:match("^%s*(%d+)%s*,")
  if n then return tonumber(n) end
  local d, mon, y, h, mi, sec = value:match(
    "^%s*%a+, (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT")
  if not (d and MONTHS[mon]) then return nil end
  local at = time.epoch(tonumber(y), MONTHS[mon], tonumber(d),
                        tonumber(h), tonumber(mi), tonumber(sec))
  return at and math.max(0, at - os.time())
end

-- Whether to try again after attempt 'attempt', and after how long.
local function retry_delay(opts, method, attempt, res, status, err,
                           retriable)
  if attempt > opts.retries then return nil end
  if res then
    if not (IDEMPOTENT[method] and RETRY_STATUS[status]) then
      return nil
    end
    if RETRY_AFTER_STATUS[status] then
      local after = retry_after_seconds(res:header("Retry-After"))
      if after then return math.min(after, opts.retry_after_max) end
    end
  elseif not retriable then
    return nil
  elseif not (IDEMPOTENT[method] or err.kind == "connect") then
    return nil  -- it may have reached the server: never send it twice
  end
  local ceiling = math.min(opts.backoff_max,
                           opts.backoff * 2 ^ (attempt - 1))
  return ceiling / 2 + math.random() * ceiling / 2
end

-- One request: prepare, run, interpret, report each attempt to on_event,
-- try again when that is safe and may help. Returns value, nil, response
-- or nil, err, response.
local function exchange(s, method, path, query, body, headers)
  local opts = options_of(s)
  local attempt = 0
  local maybe_applied = false  -- an earlier attempt may have reached it
  while true do
    attempt = attempt + 1
    local req = s:prepare(method, path, query, body, headers)
    local res, err, seconds, retriable = run(s, opts, req, method)
    local value, status
    if res then
      status = res:status()
      value, err = interpret(res, status, method)
      if method == "DELETE" and status == 404 and maybe_applied then
        value, err = true, nil  -- gone: the earlier attempt deleted it
      end
    elseif err.kind ~= "connect" then
      maybe_applied = true
    end
    local delay
    if value == nil then
      delay = retry_delay(opts, method, attempt, res, status, err,
                          retriable)
    end
    if opts.on_event then
      opts.on_event{method = method, url = req:url(), status = status,
                    seconds = res and res:seconds() or seconds,
                    attempt = attempt, error = err, retry_in = delay,
                    verify = opts.verify,
                    warning = not opts.verify and
                      "TLS verification is off" or nil}
    end
    if delay == nil then return value, err, res end
    scheduler.sleep(delay)
  end
end

local function check_table(v, where, name)
  if v ~= nil and type(v) ~= "table" then
    raise(where, "%s must be a table, got %s", name, type(v))
  end
end

-- Methods already checked, each with its upper-case verb; a few only,
-- so that made-up methods cannot grow it without bound.
local known_verbs, verbs_known, MAX_VERBS = {}, 0, 32
-- Paths already checked, forgotten all at once when there are too many.
local known_paths, paths_known, MAX_PATHS = {}, 0, 256
local SLASH = string.byte("/")

-- s:request(method, path, {query=, body=, headers=}) -> the decoded
-- answer (true when a 2xx has no body, and for 204), or nil, err. path is
-- relative to {url}/api/{version} and may not hold a query: use query.
function Session.request(s, method, path, opts)
  local verb = known_verbs[method]
  if verb == nil then
    if type(method) ~= "string" or not method:match("^%a+$") then
      raise("request", "method must be an HTTP verb such as \"GET\", got "
        .. "%s", describe(method))
    end
    verb = method:upper()
    if verbs_known < MAX_VERBS then
      known_verbs[method], verbs_known = verb, verbs_known + 1
    end
  end
  if not known_paths[path] then
    if type(path) ~= "string" or path:byte(1) ~= SLASH
      or path:find("[%s%c?#]") then
      raise("request", "path must be a string starting with \"/\" "
        .. "without spaces, query or fragment, got %s", describe(path))
    end
    if paths_known == MAX_PATHS then known_paths, paths_known = {}, 0 end
    known_paths[path], paths_known = true, paths_known + 1
  end
  check_table(opts, "request", "options")
  if opts == nil then
    local value, err = exchange(s, verb, path)
    return value, err
  end
  for k in pairs(opts) do
    if k ~= "query" and k ~= "body" and k ~= "headers" then
      raise("request", "unknown option %s", describe(k))
    end
  end
  check_table(opts.query, "request", "query")
  check_table(opts.headers, "request", "headers")
  local value, err = exchange(s, verb, path, opts.query, opts.body,
    opts.headers)
  return value, err
end

-- Ids and bodies -----------------------------------------------------

local function is_boxed(v)
  return getmetatable(v) == core.integer_mt
end

-- A positive integer id from an integer, an integer-valued float, a
-- string of digits, an agent object or a table with such an id. Without
-- an integer type (LuaJIT) an id beyond 2^53 is a string of digits,
-- which core.integer boxes so that JSON writes it as a number.
local function to_id(v, where, name)
  local id = v
  if type(v) == "table" and not is_boxed(v) then id = v.id end
  if type(id) == "string" then
    id = id:match("^[1-9]%d*$") and core.integer(id)
  elseif type(id) == "number" then
    id = tointeger(id)
  elseif not is_boxed(id) then
    id = nil
  end
  if not id or (type(id) == "number" and id < 1) then
    raise(where, "%s must be a positive integer, got %s", name,
      describe(v))
  end
  return id
end

-- Paths already made from an integer id, by prefix, forgotten all at once
-- when there are too many.
local id_paths, id_paths_known, MAX_ID_PATHS = {}, 0, 256

-- The path prefix/id for the id v (to_id), and that id.
local function id_path(prefix, v, where)
  local id = to_id(v, where, "id")
  if type(id) ~= "number" then return prefix .. "/" .. tostring(id), id end
  local made = id_paths[prefix]
  local path = made and made[id]
  if path == nil then
    path = string.format("%s/%d", prefix, id)
    if id_paths_known == MAX_ID_PATHS then
      id_paths, id_paths_known = {}, 0
    end
    made = id_paths[prefix] or {}
    id_paths[prefix], made[id] = made, path
    id_paths_known = id_paths_known + 1
  end
  return path, id
end

local function id_list(v, where, name)
  if type(v) ~= "table" or objects.is_agent(v) then
    raise(where, "%s must be a list of ids, got %s", name, type(v))
  end
  local n = #v
  for k in pairs(v) do
    if math_type(k) ~= "integer" or k < 1 or k > n then
      raise(where, "%s must be a list of ids (key %s)", name, describe(k))
    end
  end
  local out = core.array({})
  for i = 1, n do
    out[i] = to_id(v[i], where, string.format("%s[%d]", name, i))
  end
  return out
end

local function period_list(v, where)
  if type(v) ~= "table" then
    raise(where, "periods must be a list of periods, got %s", type(v))
  end
  if v.startTime ~= nil or v.endTime ~= nil then v = {v} end
  local n = #v
  if n == 0 then raise(where, "periods must not be empty") end
  for k in pairs(v) do
    if math_type(k) ~= "integer" or k < 1 or k > n then
      raise(where, "periods must be a list of periods (key %s)",
        describe(k))
    end
  end
  local out = core.array({})
  for i = 1, n do
    local p = v[i]
    local field = string.format("periods[%d]", i)
    if type(p) ~= "table" then
      raise(where, "%s must be a period table, got %s", field, type(p))
    end
    local start, stop = p[1], p[2]
    if p.startTime ~= nil or p.endTime ~= nil then
      start, stop = p.startTime, p.endTime
    end
    out[i] = time.period(start, stop, "kiamo: " .. where .. ": " .. field)
  end
  return out
end

local PLANNING_KEYS = {
  create = {periods = true, activities = true, agents = true},
  get = {periods = true, activities = true, agents = true, team = true,
         group = true, per_page = true, next_id = true},
  delete = {periods = true, activities = true, agents = true, team = true,
            group = true},
}

-- The JSON body of a planning request; `verb` is create, get or delete.
local function planning_body(args, where, verb)
  if type(args) ~= "table" then
    raise(where, "argument must be a table, got %s", type(args))
  end
  for k in pairs(args) do
    if not PLANNING_KEYS[verb][k] then
      raise(where, "unknown field %s", describe(k))
    end
  end
  local body = core.object({})
  body.periods = period_list(args.periods, where)
  if args.activities == nil and verb ~= "get" then
    raise(where, "activities is missing (use {} for all on get and delete)")
  end
  body.activities = id_list(args.activities or {}, where, "activities")
  if verb == "create" then
    if args.agents == nil then raise(where, "agents is missing") end
    body.agents = id_list(args.agents, where, "agents")
    return body
  end
  local given = {}
  for _, name in ipairs{"agents", "team", "group"} do
    if args[name] ~= nil then given[#given + 1] = name end
  end
  if #given ~= 1 then
    raise(where, "give exactly one of agents, team, group (got %s)",
      #given == 0 and "none" or table.concat(given, ", "))
  end
  if args.agents ~= nil then
    body.agents = id_list(args.agents, where, "agents")
  else
    local name = given[1]
    body[name] = to_id(args[name], where, name)
  end
  return body
end

local STRING_FIELDS = {
  last_name = true, first_name = true, login = true, password = true,
  email = true, language = true, timezone_type = true,
  timezone_code = true,
}

-- The JSON body of an agent request, fields checked by type.
local function agent_body(fields, where)
  if type(fields) ~= "table" or objects.is_agent(fields) then
    raise(where, "fields must be a table, got %s", type(fields))
  end
  local body = core.object({})
  for k, v in pairs(fields) do
    if type(k) ~= "string" then
      raise(where, "field names must be strings, got %s", describe(k))
    end
    if STRING_FIELDS[k] then
      if type(v) ~= "string" then
        raise(where, "%s must be a string, got %s", k, type(v))
      end
    elseif k == "group" then
      v = to_id(v, where, k)
    elseif k == "team" then
      if v ~= core.null and not (type(v) == "table" and v.id == "") then
        v = to_id(v, where, k)
      else
        v = core.null
      end
    elseif k == "must_update_password" then
      if v == "true" or v == "false" then v = v == "true" end
      if type(v) ~= "boolean" then
        raise(where, "%s must be a boolean, got %s", k, type(v))
      end
    end
    body[k] = v
  end
  return body
end

-- Planning -----------------------------------------------------------

local PLANNING = "/activities/planning"

-- nil for JSON null, so `if cursor.next then` reads as it should.
local function unnull(v)
  if v == core.null then return nil end
  return v
end

-- A decode error for a 2xx answer whose JSON has the wrong shape.
local function bad_answer(res, what)
  return Error.new{kind = "decode", status = res:status(),
    message = "the answer " .. what, method = res:method(), url = res:url(),
    body = res:body()}
end

local function entries_of(s, value, res)
  if type(value) ~= "table" or getmetatable(value.data) ~= core.array_mt
  then
    return nil, bad_answer(res, "has no data array")
  end
  -- the decoded array becomes the list of entries, item by item
  local data = value.data
  for i = 1, #data do
    local entry = objects.entry(s, data[i])
    if not entry then
      return nil, bad_answer(res, "has a data item that is not an object")
    end
    data[i] = entry
  end
  return setmetatable(data, nil)
end

-- s:create_planning{periods=, activities=, agents=} -> list of entries,
-- or nil, err.
function Session.create_planning(s, args)
  local body = planning_body(args, "create_planning", "create")
  local value, err, res = exchange(s, "POST", PLANNING, nil, body)
  if value == nil then return nil, err end
  return entries_of(s, value, res)
end

local function get_page(s, body, query)
  local value, err, res = exchange(s, "GET", PLANNING, query, body)
  if value == nil then return nil, err end
  local data, bad = entries_of(s, value, res)
  local meta = type(value) == "table" and value.meta
  local cursor = type(meta) == "table" and meta.cursor
  if data and type(cursor) ~= "table" then
    data, bad = nil, bad_answer(res, "has no meta.cursor")
  elseif data and not (cursor.next == core.null or
      type(cursor.next) == "string" or math_type(cursor.next) == "integer")
  then
    data, bad = nil, bad_answer(res, "has a cursor.next that is neither "
      .. "an id nor null")
  end
  if not data then return nil, bad end
  return {data = data, meta = meta,
          cursor = {current = unnull(cursor.current),
                    prev = unnull(cursor.prev), next = unnull(cursor.next),
                    count = unnull(cursor.count)}}, nil, res
end

local function page_query(s, args, where)
  local opts = options_of(s)
  local query = {}
  if args.per_page ~= nil then
    local n = tointeger(args.per_page)
    if not n or n < 1 then
      raise(where, "per_page must be a positive integer, got %s",
        describe(args.per_page))
    end
    query[opts.per_page_param] = n
  end
  if args.next_id ~= nil then
    local t = type(args.next_id)
    if t ~= "string" and math_type(args.next_id) ~= "integer" then
      raise(where, "next_id must be a string or an integer, got %s", t)
    end
    query[opts.cursor_param] = args.next_id
  end
  return query, opts
end

-- s:get_planning{periods=, activities=, agents|team|group=, per_page=,
-- next_id=} -> page {data = {entries}, cursor = {current, prev, next,
-- count}, meta}, or nil, err. JSON null in the cursor reads as nil.
function Session.get_planning(s, args)
  local body = planning_body(args, "get_planning", "get")
  local page, err = get_page(s, body, (page_query(s, args, "get_planning")))
  return page, err
end

-- for entry, page in s:each_planning{...}: every entry of every page,
-- following cursor.next until it is null. Raises the kiamo.Error of a
-- failed page (a nil would silently end the loop). Nothing is held open
-- between pages, so leaving the loop early needs no clean-up.
function Session.each_planning(s, args)
  s:url()  -- raises now on a closed session, not at the first step
  local body = planning_body(args, "each_planning", "get")
  local query, opts = page_query(s, args, "each_planning")
  local page, index, finished = nil, 0, false
  local seen = {}
  local last_res
  return function()
    while not finished do
      if page and index < #page.data then
        index = index + 1
        return page.data[index], page
      end
      if page then
        local next_id = page.cursor.next
        if next_id == nil then break end
        if seen[next_id] then
          finished = true
          error(bad_answer(last_res,
            "repeats the cursor " .. describe(next_id)))
        end
        seen[next_id] = true
        query[opts.cursor_param] = next_id
      end
      local err
      page, err, last_res = get_page(s, body, query)
      index = 0
      if not page then
        finished = true
        error(err)
      end
    end
    finished = true
    return nil
  end
end

-- s:delete_planning{periods=, activities=, agents|team|group=} -> true,
-- or nil, err.
function Session.delete_planning(s, args)
  local body = planning_body(args, "delete_planning", "delete")
  local value, err = exchange(s, "DELETE", PLANNING, nil, body)
  if value == nil then return nil, err end
  return true
end

-- Load balancing -----------------------------------------------------

-- s:host(app) -> the decoded answer, or nil, err.
function Session.host(s, app)
  if type(app) ~= "string" or app == "" then
    raise("host", "app must be a non-empty string, got %s", describe(app))
  end
  local value, err = exchange(s, "GET",
    "/load-balancing/" .. core.escape(app))
  return value, err
end

-- Agents -------------------------------------------------------------

-- The id in a Location header such as /api/v3/agents/31, if any.
local function location_id(res)
  local location = res and res:header("Location")
  local id = location and location:match("/agents/(%d+)/?$")
  return id and core.integer(id)
end

-- An agent object from an answer. An empty answer to POST or PATCH is
-- read back with GET when the id is known.
local function agent_answer(s, value, res, id)
  id = id or location_id(res)
  if value == true and id and res:method() ~= "GET" then
    return s:agent(id)
  end
  local agent = objects.agent(s, value, id)
  if not agent then return nil, bad_answer(res, "is not an agent object") end
  return agent
end

-- s:agent(id) -> agent object, or nil, err.
function Session.agent(s, id)
  local path, agent_id = id_path("/agents", id, "agent")
  local value, err, res = exchange(s, "GET", path)
  if value == nil then return nil, err end
  return agent_answer(s, value, res, agent_id)
end

-- s:create_agent{last_name=, login=, group=, ...} -> agent object, or
-- nil, err.
function Session.create_agent(s, fields)
  local body = agent_body(fields, "create_agent")
  local value, err, res = exchange(s, "POST", "/agents", nil, body)
  if value == nil then return nil, err end
  return agent_answer(s, value, res)
end

-- s:update_agent(id, {...}) -> agent object, or nil, err (PATCH).
function Session.update_agent(s, id, fields)
  local path = id_path("/agents", id, "update_agent")
  local body = agent_body(fields, "update_agent")
  local value, err, res = exchange(s, "PATCH", path, nil, body)
  if value == nil then return nil, err end
  return agent_answer(s, value, res, to_id(id, "update_agent", "id"))
end

-- s:delete_agent(id) -> true, or nil, err.
function Session.delete_agent(s, id)
  local path = id_path("/agents", id, "delete_agent")
  local value, err = exchange(s, "DELETE", path)
  if value == nil then return nil, err end
  return true
end

return kiamo

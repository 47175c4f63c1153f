-- kiamo-mock's state file under load: 64 clients at once make 10,000
-- mutations in all (agents created, patched and deleted, planning added
-- and deleted) through the client's s:run; the emulator is killed with
-- SIGKILL at a random moment, restarted from its state file, and every
-- mutation a client saw acknowledged must still be there.

local kiamo = require "kiamo"
local scheduler = require "kiamo.scheduler"
local socket = require "socket"
local json = require "kiamo.mock.json"
local mock_server = require "support.mock_server"
local shell = require "support.shell"

local TOKEN = "0123456789abcdef0123456789abcdef01234567"

local LOAD = {
  clients = 64,
  mutations = 10000,     -- in all, over the clients
  kill_after = {0.05, 0.8}, -- share of the mutations sent before the
                            -- kill, the range it is drawn from
  watch_every = 0.02,    -- seconds between the killer's looks
  kept = 1,              -- agents (and planning) each client keeps;
                         -- the others it deletes, so that the state file
                         -- written after each change stays small
  parse_every = 0.25,    -- seconds between reads of the state file
  agents = {1, 2},       -- fixture agents that get planning
  activity = 2,
  first_hour = os.time{year = 2032, month = 1, day = 1, hour = 0},
}


local read_file = shell.read_file


-- Whether the state file parses as JSON (read at any moment).
local function state_parses(path)
  local text = read_file(path)
  return text ~= nil and json.decode(text) ~= nil
end


-- The ISO period of a client's n-th planning: a quarter hour of its own.
local function quarter(client, n)
  local start = LOAD.first_hour + ((client - 1) * 1000 + n) * 3600
  return {os.date("!%Y-%m-%dT%H:%M:%SZ", start),
          os.date("!%Y-%m-%dT%H:%M:%SZ", start + 900)}
end


-- One client's work: mutations until it has made its share or one
-- fails. What it knows is kept in record: for each object the last
-- acknowledged state and the mutation in flight when it failed.
local function client_work(s, client, share, record)
  record.failure = nil
  local function mutate(kind, object, pending, f)
    object.pending = pending
    record.made = record.made + 1
    local value, err = f()
    if value == nil then
      record.failure = err
      return nil
    end
    object.pending = nil
    object[kind] = pending
    record.acknowledged = record.acknowledged + 1
    return value
  end
  while record.made < share do
    local agent = {kind = "agent"}
    record.objects[#record.objects + 1] = agent
    local login = string.format("load%d_%d_%d", client, #record.objects,
                                math.random(1e9))
    local created = mutate("state", agent, "created", function()
      return s:create_agent{last_name = "Load", login = login, group = 1}
    end)
    if not created then return end
    agent.id = created.id
    for round = 1, 2 do
      local name = string.format("n%d", round)
      if record.made >= share then return end
      if not mutate("name", agent, name, function()
        return s:update_agent(agent.id, {first_name = name})
      end) then return end
    end
    record.planned = record.planned + 1
    local planned = record.planned
    local entry = {kind = "planning", period = quarter(client, planned),
                   agent = LOAD.agents[planned % #LOAD.agents + 1]}
    record.objects[#record.objects + 1] = entry
    if record.made >= share then return end
    if not mutate("state", entry, "planned", function()
      return s:create_planning{periods = {entry.period},
        activities = {LOAD.activity}, agents = {entry.agent}}
    end) then return end
    if planned > LOAD.kept then
      if record.made >= share then return end
      if not mutate("state", agent, "deleted", function()
        return s:delete_agent(agent.id)
      end) then return end
      if record.made >= share then return end
      if not mutate("state", entry, "unplanned", function()
        return s:delete_planning{periods = {entry.period},
          activities = {LOAD.activity}, agents = {entry.agent}}
      end) then return end
    end
  end
end


-- The quarter hours planned now, as a set of "agent start" strings.
local function planned_now(s)
  local found = {}
  for _, agent in ipairs(LOAD.agents) do
    local last = LOAD.first_hour + (LOAD.clients * 1000 + 1000) * 3600
    for entry in s:each_planning{
      periods = {{os.date("!%Y-%m-%dT%H:%M:%SZ", LOAD.first_hour),
                  os.date("!%Y-%m-%dT%H:%M:%SZ", last)}},
      activities = {LOAD.activity}, agents = {agent}, per_page = 1000} do
      found[agent .. " " .. entry.period.startTime] = true
    end
  end
  return found
end


-- The states an object may be found in: the acknowledged one, or the
-- one its failed mutation would have made.
local function allowed(object, field)
  local states = {}
  if object[field] ~= nil then states[object[field]] = true end
  if object.pending ~= nil then states[object.pending] = true end
  return states
end


-- Checks every object of every record against the server. Returns the
-- number of objects checked; raises on the first one lost.
local function verify(s, records)
  local planning = planned_now(s)
  local checked = 0
  local lookups = {}
  for _, record in ipairs(records) do
    for _, object in ipairs(record.objects) do
      if object.kind == "planning" and (object.state or object.pending) then
        local key = object.agent .. " " .. object.period[1]
        local states = allowed(object, "state")
        local found = planning[key] and "planned" or "unplanned"
        if object.state == nil then states.unplanned = true end
        assert(states[found], string.format(
          "planning %s is %s, acknowledged %s", key, found,
          tostring(object.state)))
        checked = checked + 1
      elseif object.kind == "agent" and object.id then
        lookups[#lookups + 1] = function()
          local agent, err = s:agent(object.id)
          local states = allowed(object, "state")
          local found = agent and "created" or "deleted"
          assert(agent or err.status == 404, tostring(err))
          assert(states[found], string.format("agent %d is %s, " ..
            "acknowledged %s", object.id, found, tostring(object.state)))
          if agent and (object.name or object.pending) then
            local names = allowed(object, "name")
            assert(names[agent.first_name] or
                   (object.name == nil and agent.first_name == ""),
              string.format("agent %d is named %q, acknowledged %s",
                            object.id, agent.first_name,
                            tostring(object.name)))
          end
          return true
        end
      end
    end
  end
  local results = s:run(lookups, {concurrency = LOAD.clients})
  for i = 1, results.n do
    assert(results[i][1], results[i][2])
  end
  return checked + #lookups
end


-- Runs the clients' work (and extra tasks) together until each has
-- made its share or failed. Returns the seconds taken.
local function load(s, records, extra)
  local tasks = {}
  local started = socket.gettime()
  for client, record in ipairs(records) do
    tasks[client] = function()
      client_work(s, client, record.share, record)
    end
  end
  for _, task in ipairs(extra or {}) do tasks[#tasks + 1] = task end
  s:run(tasks, {concurrency = LOAD.clients})
  return socket.gettime() - started
end


local function sums(records)
  local made, acknowledged = 0, 0
  for _, record in ipairs(records) do
    made = made + record.made
    acknowledged = acknowledged + record.acknowledged
  end
  return made, acknowledged
end


describe("kiamo-mock with --state under load", function()
  local state, server

  before_each(function()
    state = os.tmpname()
    os.remove(state)
  end)

  after_each(function()
    if server then server:stop() end
    os.remove(state)
    os.remove(state .. ".tmp")
  end)

  it("loses no acknowledged mutation of 64 clients when killed",
     function()
    local seed = math.floor(socket.gettime() * 1000) % 2147483648
    math.randomseed(seed)
    local kill_at = math.floor(LOAD.mutations * (LOAD.kill_after[1] +
      math.random() * (LOAD.kill_after[2] - LOAD.kill_after[1])))
    server = assert(mock_server.start{tokens = {TOKEN}, state = state})
    local port = server.port
    local records = {}
    for client = 1, LOAD.clients do
      records[client] = {objects = {}, made = 0, acknowledged = 0,
        planned = 0, share = LOAD.mutations // LOAD.clients +
          (client <= LOAD.mutations % LOAD.clients and 1 or 0)}
    end
    -- The load until the kill, with a killer that reads the state file
    -- now and then, and kills once kill_at mutations were sent.
    local parsed, killed_at = 0, nil
    local started = socket.gettime()
    local s = kiamo.session{url = server.url, token = TOKEN, timeout = 10,
                            retries = 0}
    local first_seconds = load(s, records, {function()
      local next_parse = 0
      while sums(records) < kill_at do
        if socket.gettime() >= next_parse then
          assert(state_parses(state), "the state file does not parse")
          parsed = parsed + 1
          next_parse = socket.gettime() + LOAD.parse_every
        end
        scheduler.sleep(LOAD.watch_every)
      end
      server:kill("KILL")
      killed_at = socket.gettime() - started
    end})
    s:close()
    assert.same({"signal", 9}, {server:wait()})
    assert.is_true(state_parses(state), "the state file does not parse")
    local made_before, acknowledged_before = sums(records)
    -- Restarted from the state file: all that was acknowledged is there;
    -- then the rest of the load, and a check of everything.
    server = assert(mock_server.start{tokens = {TOKEN}, state = state,
                                      port = port})
    s = kiamo.session{url = server.url, token = TOKEN, timeout = 10,
                      retries = 0}
    local checked_after_kill = verify(s, records)
    local second_seconds = load(s, records)
    local made, acknowledged = sums(records)
    for _, record in ipairs(records) do assert.is_nil(record.failure) end
    assert.equal(LOAD.mutations, made)
    s:close()
    assert.same({"exit", 0}, {server:stop()})
    server = assert(mock_server.start{tokens = {TOKEN}, state = state,
                                      port = port})
    s = kiamo.session{url = server.url, token = TOKEN, timeout = 10}
    local checked = verify(s, records)
    s:close()
    -- Figures, shown with busted --verbose (-o TAP keeps them).
    print(string.format("\nseed %d: killed at %.2f s (drawn at %d " ..
      "mutations) " ..
      "after %d mutations sent, %d acknowledged; %d objects checked " ..
      "after the kill; %d mutations in all, %d acknowledged, %d objects " ..
      "checked at the end; state file parsed %d times during the load; " ..
      "load %.2f s + %.2f s", seed, killed_at, kill_at, made_before,
      acknowledged_before, checked_after_kill, made, acknowledged,
      checked, parsed, first_seconds, second_seconds))
    assert.is_true(acknowledged_before > 0 and checked_after_kill > 0)
  end)
end)

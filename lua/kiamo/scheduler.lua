-- kiamo.scheduler: functions run as coroutines whose requests are in
-- flight together on one session.
--
-- A task is a coroutine. When a session method called inside a task
-- needs the network, the request path calls scheduler.perform, which
-- yields the prepared request to the session's engine instead of
-- blocking; the engine starts it on the session's libcurl multi handle
-- (at most `concurrency` at once, the others queued) and resumes the task
-- with the outcome. Outside a task, scheduler.perform blocks as before.
-- Backoff sleeps go through scheduler.sleep the same way.

local core = require "kiamo.core"
local compat = require "kiamo.compat"

local scheduler = {}

-- What a task yields to its engine: the marker first, so that a plain
-- coroutine.yield() in user code is told apart (it only gives way).
local REQUEST, SLEEP = {}, {}

local DEFAULT_CONCURRENCY = 8

local Task = {}
Task.__index = Task
Task.__name = "kiamo.Task"

-- coroutine -> its task, for the running task's lookup. Weak values
-- too: a task refers to its coroutine, and LuaJIT's weak keys are not
-- ephemerons, so weak keys alone would keep every unfinished task (and
-- its session) forever. A task stays while its engine or its caller
-- holds it.
local TASK_OF = setmetatable({}, {__mode = "kv"})

local function check_concurrency(n, where)
  if compat.math_type(n) ~= "integer" or n < 1 then
    error(string.format("kiamo: %s: concurrency must be a positive " ..
                        "integer", where), 3)
  end
  return n
end

-- Engine --------------------------------------------------------------

-- The session's engine, created on first use and kept in s:data(), so
-- that it goes with its session.
local function engine_of(s)
  local data = s:data()
  local e = data.engine
  if e == nil then
    e = {
      session = s,
      limit = DEFAULT_CONCURRENCY,
      ready = {},       -- tasks to resume, with their resume values
      waiting = {},     -- request -> task
      -- requests waiting for a slot, first in first out: the task and
      -- the request at each index from queue_head to queue_tail
      queued_task = {}, queued_req = {}, queue_head = 1, queue_tail = 0,
      sleepers = {},    -- tasks sleeping, each with wake_at
      inflight = 0,
      unfinished = 0,
    }
    data.engine = e
  end
  return e
end

-- The resume values of a task given none.
local NO_VALUES = {n = 0}

local function make_ready(e, task, ...)
  if select("#", ...) == 0 then
    task.resume_with = NO_VALUES
  else
    task.resume_with = compat.pack(...)
  end
  e.ready[#e.ready + 1] = task
end

-- Ready to resume with the outcome of its request, read at resumption
-- (no table per request).
local function make_ready_with_outcome(e, task, req)
  task.outcome_of = req
  e.ready[#e.ready + 1] = task
end

local function finish(e, task, results)
  task.results = results
  task.finished = true
  TASK_OF[task.co] = nil
  e.unfinished = e.unfinished - 1
  if task.batch then task.batch.left = task.batch.left - 1 end
end

local function closed_outcome()
  return nil, "transport", "session was closed while the request was in " ..
    "flight"
end

local function start_request(e, task, req)
  local s = e.session
  if s:closed() then
    make_ready(e, task, closed_outcome())
  elseif e.inflight < e.limit then
    s:start(req)
    e.inflight = e.inflight + 1
    e.waiting[req] = task
  else
    local tail = e.queue_tail + 1
    e.queued_task[tail], e.queued_req[tail] = task, req
    e.queue_tail = tail
  end
end

-- The oldest queued request and its task, taken off the queue; nil when
-- it is empty.
local function dequeue(e)
  local head = e.queue_head
  if head > e.queue_tail then return nil end
  local task, req = e.queued_task[head], e.queued_req[head]
  e.queued_task[head], e.queued_req[head] = nil, nil
  if head == e.queue_tail then
    e.queue_head, e.queue_tail = 1, 0
  else
    e.queue_head = head + 1
  end
  return task, req
end

-- File what a task asks for next, from what coroutine.resume returned.
local function after_resume(e, task, ok, what, ...)
  if coroutine.status(task.co) == "dead" then
    if ok then
      finish(e, task, compat.pack(what, ...))
    else
      finish(e, task, compat.pack(nil, what))
    end
  elseif what == REQUEST then
    start_request(e, task, (...))
  elseif what == SLEEP then
    task.wake_at = core.now() + (...)
    e.sleepers[#e.sleepers + 1] = task
  else
    make_ready(e, task)  -- a plain yield: give way, resume next round
  end
end

-- Resume one task and file what it asks for next.
local function resume(e, task)
  local req = task.outcome_of
  if req then
    task.outcome_of = false
    return after_resume(e, task, coroutine.resume(task.co, req:outcome()))
  end
  local args = task.resume_with
  task.resume_with = false
  return after_resume(e, task, coroutine.resume(task.co,
                                                compat.unpack(args, 1,
                                                              args.n)))
end

local function resume_ready(e)
  while #e.ready > 0 do
    local ready = e.ready
    e.ready = {}
    for _, task in ipairs(ready) do resume(e, task) end
  end
end

local function wake_sleepers(e, now)
  local next_wake
  local i = 1
  while i <= #e.sleepers do
    local task = e.sleepers[i]
    if task.wake_at <= now then
      table.remove(e.sleepers, i)
      make_ready(e, task)
    else
      next_wake = math.min(next_wake or math.huge, task.wake_at)
      i = i + 1
    end
  end
  return next_wake
end

-- A closed session fails everything still waiting on it.
local function fail_all(e)
  for req, task in pairs(e.waiting) do
    e.waiting[req] = nil
    make_ready(e, task, closed_outcome())
  end
  for _ = e.queue_head, e.queue_tail do
    make_ready(e, (dequeue(e)), closed_outcome())
  end
  e.inflight = 0
end

-- Hand completed requests back to their tasks and fill freed slots.
local function collect(e, done)
  for _, req in ipairs(done) do
    local task = e.waiting[req]
    if task ~= nil then
      e.waiting[req] = nil
      e.inflight = e.inflight - 1
      make_ready_with_outcome(e, task, req)
    end
  end
  while e.inflight < e.limit and e.queue_head <= e.queue_tail do
    start_request(e, dequeue(e))
  end
end

-- One round: resume what can run, then let the transfers progress for at
-- most 'budget' seconds (0: not at all).
local function step(e, budget)
  resume_ready(e)
  local now = core.now()
  local next_wake = wake_sleepers(e, now)
  if #e.ready > 0 then return end
  local s = e.session
  if s:closed() then
    fail_all(e)
  else
    local wait = budget
    if next_wake ~= nil then wait = math.min(wait, next_wake - now) end
    if wait < 0 then wait = 0 end
    if e.inflight > 0 then
      collect(e, s:wait(wait))
    elseif wait > 0 and e.unfinished > 0 then
      core.sleep(wait)
    end
  end
  resume_ready(e)
end

-- A task of engine e running f(...), in 'batch' (of s:run) or false.
local function new_task(e, batch, f, ...)
  -- every field a task will have, so that the table is made once
  local task = setmetatable({co = coroutine.create(f), engine = e,
                             batch = batch, resume_with = false,
                             outcome_of = false, wake_at = false,
                             results = false, finished = false}, Task)
  TASK_OF[task.co] = task
  e.unfinished = e.unfinished + 1
  make_ready(e, task, ...)
  return task
end

-- What the request path calls -----------------------------------------

-- ok, kind, message = scheduler.perform(s, req): inside a task of this
-- session, yield the request to the engine; elsewhere, block.
function scheduler.perform(s, req)
  local task = TASK_OF[coroutine.running()]
  if task ~= nil and task.engine.session == s then
    return coroutine.yield(REQUEST, req)
  end
  return s:perform(req)
end

-- scheduler.sleep(seconds): inside a task, let the others run meanwhile.
function scheduler.sleep(seconds)
  local task = TASK_OF[coroutine.running()]
  if task ~= nil then
    coroutine.yield(SLEEP, seconds)
  else
    core.sleep(seconds)
  end
end

-- Session methods -----------------------------------------------------

local methods = {}

-- results = s:run(f1, f2, ..., {concurrency = n})
-- Runs the functions as tasks until all are done; results[i] is what fi
-- returned, packed (results[i][1], results[i][2], results[i].n), or
-- {nil, message} when fi raised. A single list of functions may be given
-- instead of several arguments.
function methods.run(s, ...)
  local fs = compat.pack(...)
  local opts = {}
  if fs.n > 0 and type(fs[fs.n]) == "table" and
     type(fs[fs.n][1]) ~= "function" then
    opts = fs[fs.n]
    fs.n = fs.n - 1
  end
  if fs.n == 1 and type(fs[1]) == "table" then
    fs = compat.pack(compat.unpack(fs[1]))
  end
  for i = 1, fs.n do
    if type(fs[i]) ~= "function" then
      error(string.format("kiamo: run: argument %d must be a function, " ..
                          "not a %s", i, type(fs[i])), 2)
    end
  end
  if s:closed() then error("kiamo: session is closed", 2) end
  if TASK_OF[coroutine.running()] ~= nil then
    error("kiamo: run: cannot be called inside a task", 2)
  end
  local e = engine_of(s)
  local saved = e.limit
  e.limit = check_concurrency(opts.concurrency or saved, "run")
  local tasks, batch = {}, {left = fs.n}
  for i = 1, fs.n do
    tasks[i] = new_task(e, batch, fs[i])
  end
  while batch.left > 0 do step(e, 1) end
  e.limit = saved
  local results = {n = fs.n}
  for i, task in ipairs(tasks) do results[i] = task.results end
  return results
end

-- t = s:spawn(f, ...): a task the host drives with s:poll.
function methods.spawn(s, f, ...)
  if type(f) ~= "function" then
    error("kiamo: spawn: argument must be a function, not a " .. type(f),
          2)
  end
  if s:closed() then error("kiamo: session is closed", 2) end
  return new_task(engine_of(s), false, f, ...)
end

-- n = s:poll(max_seconds): run the session's tasks for at most
-- max_seconds (0 never waits); returns how many are unfinished.
function methods.poll(s, max_seconds)
  max_seconds = max_seconds or 0
  if type(max_seconds) ~= "number" or max_seconds ~= max_seconds
     or max_seconds < 0 then
    error("kiamo: poll: max_seconds must be a number >= 0", 2)
  end
  local e = s:data().engine
  if e == nil then return 0 end
  local deadline = core.now() + max_seconds
  repeat
    step(e, math.max(0, deadline - core.now()))
  until e.unfinished == 0 or core.now() >= deadline
  return e.unfinished
end

-- s:concurrency(n): the bound for spawned tasks (default 8).
function methods.concurrency(s, n)
  engine_of(s).limit = check_concurrency(n, "concurrency")
end

function Task:done()
  return self.finished == true
end

-- ... = t:result(): what the function returned, or nil, message when it
-- raised. Raises while the task is unfinished.
function Task:result()
  if not self.finished then
    error("kiamo: task has not finished (check t:done() first)", 2)
  end
  return compat.unpack(self.results, 1, self.results.n)
end

function Task:__tostring()
  return self.finished and "kiamo.Task (done)" or "kiamo.Task (running)"
end

scheduler.methods = methods
scheduler.Task = Task

return scheduler

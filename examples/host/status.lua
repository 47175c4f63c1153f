-- status.lua: the script examples/host/host.c runs in its frame loop.
--
--   KIAMO_URL=... KIAMO_API_TOKEN=... kiamo-host status.lua [CALLS [APP]]
--
-- Issues CALLS Kiamo calls (default 200: the load-balancing answer for
-- APP, default "kiwi"), a few more each frame, as tasks of one session,
-- and moves them on with s:poll(0), which never waits, so every frame
-- stays short however slow the server is. Each frame redraws one status
-- line; the last frame prints what the calls gave.

local kiamo = require "kiamo"

local SETTINGS = {
  spawn_per_frame = 10,  -- calls started each frame
  concurrency = 16,      -- calls in flight at once
}

local calls = math.tointeger(tonumber(arg[1] or "200"))
local app = arg[2] or "kiwi"
if not calls or calls < 1 then
  error("status.lua: CALLS must be a positive integer", 0)
end

local session = kiamo.session{}  -- KIAMO_URL and KIAMO_API_TOKEN
session:concurrency(SETTINGS.concurrency)

local tasks = {}
local counts = {ok = 0, failed = 0}
local first_error

local function fetch()
  return session:host(app)
end

-- Counts the tasks that finished since the last frame.
local function collect()
  for i = #tasks, 1, -1 do
    local task = tasks[i]
    if task:done() then
      local answer, err = task:result()
      if answer then
        counts.ok = counts.ok + 1
      else
        counts.failed = counts.failed + 1
        first_error = first_error or tostring(err)
      end
      table.remove(tasks, i)
    end
  end
end

local spawned = 0

local function frame(n, seconds)
  for _ = 1, SETTINGS.spawn_per_frame do
    if spawned == calls then break end
    spawned = spawned + 1
    tasks[#tasks + 1] = session:spawn(fetch)
  end
  session:poll(0)
  collect()
  io.stdout:write(string.format(
    "\rframe %5d  %6.2f s  calls done %3d/%d  failed %d  running %2d ",
    n, seconds, counts.ok + counts.failed, calls, counts.failed, #tasks))
  io.stdout:flush()
  if counts.ok + counts.failed < calls then return true end
  io.stdout:write(string.format("\ncalls: %d ok, %d failed\n", counts.ok,
    counts.failed))
  if first_error then io.stdout:write("first error: ", first_error, "\n") end
  session:close()
  return false
end

return frame

-- Tasks run by a few workers over one session: each worker takes the
-- next task in turn, inside s:run, so that their requests are in flight
-- together.

local workers = {}

-- workers.run(session, list, concurrency, should_stop) -> how many started.
-- No task is started once should_stop() is true, so a stop takes effect
-- after the requests under way, not after every queued one.
function workers.run(session, list, concurrency, should_stop)
  local started = 0
  local function worker()
    while started < #list and not should_stop() do
      started = started + 1
      list[started]()
    end
  end
  local pool = {}
  for i = 1, math.max(1, math.min(concurrency, #list)) do
    pool[i] = worker
  end
  session:run(pool, {concurrency = concurrency})
  return started
end

return workers

-- bench/run.lua: the benchmarks of lua-kiamo against the limit (plain C
-- over libcurl) and against peers, side by side on one nginx.
--
--   lua5.4 bench/run.lua        (make bench: after make, from anywhere)
--
-- Environment: BENCH_ROUNDS (default 5), BENCH_COUNT (requests of rows 1
-- and 2, default 20000), BENCH_MEMORY_COUNT (row 4, default 100000),
-- BENCH_ENTRIES (planning page, default 100000), BENCH_PARALLEL (row 2,
-- default 32), CC. Prints one table and writes it to bench/results.md.
--
-- Every client is a child process that prints name=value pairs for its
-- timed part: wall (monotonic clock) and cpu (the process's CPU time,
-- user + system). Each round runs every client of a row once, in an
-- order that rotates between rounds; a ratio is taken within a round
-- (client / limit) and the table shows the median over the rounds.

local HERE = (arg[0]:match("^(.*)/[^/]*$") or ".")
package.path = HERE .. "/?.lua;" .. package.path
local server = require "server"

local ROOT = HERE .. "/.."
local BUILD = ROOT .. "/build/bench"
local LUA = "lua5.4"
local TIMEOUT = "timeout 240 "

local function env_count(name, default)
  local n = math.tointeger(tonumber(os.getenv(name) or ""))
  return (n and n > 0) and n or default
end

local CONFIG = {
  rounds = env_count("BENCH_ROUNDS", 5),
  count = env_count("BENCH_COUNT", 20000),
  memory_count = env_count("BENCH_MEMORY_COUNT", 100000),
  entries = env_count("BENCH_ENTRIES", 100000),
  parallel = env_count("BENCH_PARALLEL", 32),
  planning_fetches = 5,
}

local TARGETS = {
  seq_wall = 1.10, seq_cpu = 1.20, multi_wall = 1.25, decode = 1.00,
  peak = 4.0, growth = 1024 * 1024,
}

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function have(command)
  return os.execute("command -v " .. command .. " >/dev/null 2>&1")
end

local function build_limits()
  local cc = os.getenv("CC") or "cc"
  os.execute("mkdir -p " .. shell_quote(BUILD))
  for _, name in ipairs{"limit_seq", "limit_multi"} do
    local cmd = string.format("%s -O2 -Wall -Wextra -o %s %s " ..
      "$(pkg-config --cflags libcurl 2>/dev/null) " ..
      "$(pkg-config --libs libcurl 2>/dev/null || echo -lcurl)", cc,
      shell_quote(BUILD .. "/" .. name),
      shell_quote(HERE .. "/" .. name .. ".c"))
    if not os.execute(cmd) then error("bench: cannot build " .. name, 0) end
  end
end

-- Runs a client; returns its name=value pairs as numbers, or nil, why.
local function run_client(cmd)
  local pipe = io.popen(TIMEOUT .. cmd .. " 2>&1")
  local out = pipe:read("a")
  local ok = pipe:close()
  local line
  for l in out:gmatch("[^\n]+") do
    if l:match("^[%w_]+=%S") then line = l end
  end
  if not ok or not line then
    return nil, (out:gsub("%s+$", ""):sub(-300))
  end
  local fields = {}
  for k, v in line:gmatch("([%w_]+)=(%S+)") do fields[k] = tonumber(v) end
  return fields
end

local function median(list)
  local t = {}
  for i, v in ipairs(list) do t[i] = v end
  table.sort(t)
  local n = #t
  if n == 0 then return nil end
  if n % 2 == 1 then return t[(n + 1) // 2] end
  return (t[n // 2] + t[n // 2 + 1]) / 2
end

-- Runs the clients of one row for every round, rotating their order.
-- clients: list of {name=, cmd=}. Returns name -> list of results.
local function rounds(clients, progress)
  local results, failures = {}, {}
  for _, c in ipairs(clients) do results[c.name] = {} end
  for r = 1, CONFIG.rounds do
    for k = 0, #clients - 1 do
      local c = clients[(k + r - 1) % #clients + 1]
      local res, why = run_client(c.cmd)
      if res then
        res.round = r
        table.insert(results[c.name], res)
      else
        failures[c.name] = why
      end
    end
    io.stderr:write(string.format("bench: %s round %d/%d\n", progress, r,
                                  CONFIG.rounds))
  end
  return results, failures
end

-- Median over rounds of client/limit for a field, paired by round.
local function ratio(results, name, limit, field, limit_field)
  local by_round = {}
  for _, res in ipairs(results[limit]) do by_round[res.round] = res end
  local list = {}
  for _, res in ipairs(results[name] or {}) do
    local base = by_round[res.round]
    if base and base[limit_field or field] > 0 then
      list[#list + 1] = res[field] / base[limit_field or field]
    end
  end
  return median(list)
end

local function field_median(results, name, field)
  local list = {}
  for _, res in ipairs(results[name] or {}) do list[#list + 1] = res[field] end
  return median(list)
end

-- Formatting -----------------------------------------------------------

local rows = {}

local function add_row(bench, client, wall, cpu, ratios, target, result)
  rows[#rows + 1] = {bench, client, wall, cpu, ratios, target, result}
end

local function x(v) return v and string.format("%.2fx", v) or "n/a" end

local function checks(list)
  local misses = {}
  for _, c in ipairs(list) do
    if c.value == nil then
      misses[#misses + 1] = c.what .. " not measured"
    elseif not c.ok then
      misses[#misses + 1] = c.what
    end
  end
  if #misses == 0 then return "pass" end
  return "MISS: " .. table.concat(misses, "; ")
end

-- Rows 1 and 2: many GETs --------------------------------------------

local function requests_row(bench, limit, kiamos, peers, targets)
  local clients = {limit}
  for _, c in ipairs(kiamos) do clients[#clients + 1] = c end
  for _, c in ipairs(peers) do clients[#clients + 1] = c end
  local results, failures = rounds(clients, bench)
  local n = CONFIG.count
  local function line(c, target, result)
    local wall = field_median(results, c.name, "wall")
    local cpu = field_median(results, c.name, "cpu")
    if not wall then
      add_row(bench, c.name, "failed", "", "", target or "",
        (failures[c.name] or "no result"):gsub("[\n|]", " "))
      return
    end
    local rw = ratio(results, c.name, limit.name, "wall")
    local rc = ratio(results, c.name, limit.name, "cpu")
    add_row(bench, c.name, string.format("%.3f s", wall),
      string.format("%.1f us/req", cpu / n * 1e6),
      string.format("%s / %s", x(rw), x(rc)), target or "", result or "")
  end
  line(limit, "the limit")
  local best_peer, best_name
  for _, p in ipairs(peers) do
    local rw = ratio(results, p.name, limit.name, "wall")
    if rw and (not best_peer or rw < best_peer) then
      best_peer, best_name = rw, p.name
    end
  end
  for _, k in ipairs(kiamos) do
    local rw = ratio(results, k.name, limit.name, "wall")
    local rc = ratio(results, k.name, limit.name, "cpu")
    local list = {{what = string.format("wall %s > %.2fx", x(rw),
                     targets.wall), value = rw,
                   ok = rw and rw <= targets.wall}}
    if targets.cpu then
      list[#list + 1] = {what = string.format("CPU %s > %.2fx", x(rc),
        targets.cpu), value = rc, ok = rc and rc <= targets.cpu}
    end
    if best_peer then
      list[#list + 1] = {what = string.format("slower than %s (%s)",
        best_name, x(best_peer)), value = rw, ok = rw and rw < best_peer}
    end
    local target = string.format("wall <= %.2fx%s; faster than every peer",
      targets.wall, targets.cpu and
      string.format(", CPU <= %.2fx", targets.cpu) or "")
    if k.info then target = "(" .. k.info .. ")" end
    line(k, target, checks(list))
  end
  for _, p in ipairs(peers) do line(p, "peer") end
end

local function lua_cmd(script, ...)
  local parts = {LUA, shell_quote(HERE .. "/" .. script)}
  for _, a in ipairs{...} do parts[#parts + 1] = shell_quote(tostring(a)) end
  return table.concat(parts, " ")
end

local function row_sequential(srv)
  local n = CONFIG.count
  local peers = {
    {name = "LuaSocket socket.http + cjson (new connection each)",
     cmd = lua_cmd("peer_luasocket.lua", srv.url, n)},
    {name = "Python 3 http.client keep-alive + json",
     cmd = "python3 " .. shell_quote(HERE .. "/peer_python.py") .. " " ..
       srv.url .. " " .. n, need = "python3"},
    {name = "Node 20 fetch + res.json()",
     cmd = "node " .. shell_quote(HERE .. "/peer_node.mjs") .. " " ..
       srv.url .. " " .. n .. " 1", need = "node"},
  }
  local available = {}
  for _, p in ipairs(peers) do
    if not p.need or have(p.need) then available[#available + 1] = p end
  end
  requests_row(string.format("1. %d sequential GETs, one connection", n),
    {name = "limit: C, one easy handle",
     cmd = shell_quote(BUILD .. "/limit_seq") .. " " .. srv.agent_url ..
       " " .. n},
    {{name = "kiamo s:request(\"GET\", \"/agents/30\")",
      cmd = lua_cmd("kiamo_seq.lua", srv.url, n, "request")},
     {name = "kiamo s:agent(30)",
      cmd = lua_cmd("kiamo_seq.lua", srv.url, n, "agent")}},
    available, {wall = TARGETS.seq_wall, cpu = TARGETS.seq_cpu})
end

local function row_concurrent(srv)
  local n, p = CONFIG.count, CONFIG.parallel
  local peers = {
    {name = string.format("Node 20 fetch, %d concurrent", p),
     cmd = "node " .. shell_quote(HERE .. "/peer_node.mjs") .. " " ..
       srv.url .. " " .. n .. " " .. p, need = "node"},
    {name = string.format("curl --parallel --parallel-max %d (no decode)",
       p), cmd = "sh " .. shell_quote(HERE .. "/peer_curl.sh") .. " " ..
       srv.url .. " " .. n .. " " .. p, need = "curl"},
  }
  local available = {}
  for _, peer in ipairs(peers) do
    if have(peer.need) then available[#available + 1] = peer end
  end
  requests_row(string.format("2. %d GETs, %d in flight", n, p),
    {name = string.format("limit: C, multi loop, %d transfers", p),
     cmd = shell_quote(BUILD .. "/limit_multi") .. " " .. srv.agent_url ..
       " " .. n .. " id " .. p},
    {{name = string.format("kiamo s:run, %d functions of %d requests", p,
        n // p), cmd = lua_cmd("kiamo_multi.lua", srv.url, n, p, "workers")},
     {name = string.format("kiamo s:run, %d functions of one request", n),
      cmd = lua_cmd("kiamo_multi.lua", srv.url, n, p, "tasks")}},
    available, {wall = TARGETS.multi_wall})
end

-- Row 3: one large planning page ---------------------------------------

local function row_planning(srv)
  local bench = string.format("3. one planning page, %d entries (%.1f MB)",
    srv.entries, srv.planning_bytes / 1e6)
  local limit = "limit: C, fetch only"
  local clients = {
    {name = limit, cmd = "env BENCH_WARMUP=1 " ..
      shell_quote(BUILD .. "/limit_seq") .. " " .. srv.planning_url ..
      " " .. CONFIG.planning_fetches .. " -"},
    {name = "cjson", cmd = lua_cmd("peer_cjson.lua", srv.url)},
    {name = "decode", cmd = lua_cmd("kiamo_planning.lua", srv.url,
                                    "decode")},
    {name = "request", cmd = lua_cmd("kiamo_planning.lua", srv.url,
                                     "request")},
    {name = "planning", cmd = lua_cmd("kiamo_planning.lua", srv.url,
                                      "planning")},
  }
  local results, failures = rounds(clients, "3. planning page")
  for _, res in ipairs(results[limit]) do
    res.wall = res.wall / CONFIG.planning_fetches
    res.cpu = res.cpu / CONFIG.planning_fetches
  end
  local body = srv.planning_bytes
  local function ms(v) return v and string.format("%.1f ms", v * 1e3)
    or "n/a" end
  local function failed(name)
    return (failures[name] or "no result"):gsub("[\n|]", " ")
  end
  local function vs_limit(name)
    return string.format("%s / %s", x(ratio(results, name, limit, "wall")),
      x(ratio(results, name, limit, "cpu")))
  end
  add_row(bench, limit, ms(field_median(results, limit, "wall")),
    ms(field_median(results, limit, "cpu")), "1.00x / 1.00x", "the limit",
    "")
  -- fetch + cjson.decode
  local cj_peak = field_median(results, "cjson", "peak")
  if cj_peak then
    add_row(bench, "socket.http fetch + cjson.decode",
      ms(field_median(results, "cjson", "wall")),
      ms(field_median(results, "cjson", "cpu")), vs_limit("cjson"),
      string.format("peer (decode %s; peak %.2fx body; ids integers: %s)",
        ms(field_median(results, "cjson", "decode")), cj_peak / body,
        field_median(results, "cjson", "exact") == 1 and "yes" or "no"),
      "")
  else
    add_row(bench, "socket.http fetch + cjson.decode", "failed", "", "",
      "peer", failed("cjson"))
  end
  -- the core's decode against cjson.decode, same body
  local dr = ratio(results, "decode", "cjson", "decode")
  local dc = ratio(results, "decode", "cjson", "decode_cpu")
  add_row(bench, "kiamo core.decode (after the core's raw fetch)",
    ms(field_median(results, "decode", "decode")),
    ms(field_median(results, "decode", "decode_cpu")),
    string.format("%s / %s of cjson.decode", x(dr), x(dc)),
    string.format("decode <= %.2fx cjson.decode", TARGETS.decode),
    checks{{what = string.format("decode %s > %.2fx", x(dr), TARGETS.decode),
            value = dr, ok = dr and dr <= TARGETS.decode}})
  for _, k in ipairs{{"request", "kiamo s:request (fetch + decode)"},
                     {"planning", "kiamo s:get_planning (entry objects)"}} do
    local name, label = k[1], k[2]
    local peak = field_median(results, name, "peak")
    local exact = field_median(results, name, "exact")
    if peak then
      local r = peak / body
      add_row(bench, label, ms(field_median(results, name, "wall")),
        ms(field_median(results, name, "cpu")), vs_limit(name),
        string.format("peak <= %.1fx body; ids integers", TARGETS.peak),
        checks{{what = string.format("peak %.2fx body (%.1f MB) > %.1fx", r,
                  peak / 1e6, TARGETS.peak), value = r,
                ok = r <= TARGETS.peak},
               {what = "ids not all integers", value = exact,
                ok = exact == 1}})
    else
      add_row(bench, label, "failed", "", "", "", failed(name))
    end
  end
end

-- Row 4: memory over many GETs -----------------------------------------

local function row_memory(srv)
  local n = CONFIG.memory_count
  local bench = string.format("4. %d GETs on one session", n)
  io.stderr:write("bench: " .. bench .. "\n")
  local res, why = run_client(lua_cmd("kiamo_memory.lua", srv.url, n,
                                      "agent"))
  if not res then
    add_row(bench, "kiamo s:agent(30)", "failed", "", "", "",
      why:gsub("[\n|]", " "))
    return
  end
  local growth = res.growth
  add_row(bench, "kiamo s:agent(30)", string.format("%.3f s", res.wall), "",
    string.format("RSS %.1f MiB after %d, %.1f MiB after %d (%+d KiB)",
      res.rss_first / 1048576, n // 10, res.rss_last / 1048576, n,
      growth // 1024),
    "growth <= 1 MiB",
    checks{{what = string.format("growth %d KiB > 1024 KiB",
              growth // 1024), value = growth,
            ok = growth <= TARGETS.growth}})
end

-- Main -----------------------------------------------------------------

local function table_text()
  local out = {
    "| bench | client | wall | CPU | ratio (wall / CPU) | target | result |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  }
  local last
  for _, r in ipairs(rows) do
    local bench = r[1] ~= last and r[1] or ""
    last = r[1]
    out[#out + 1] = string.format("| %s | %s | %s | %s | %s | %s | %s |",
      bench, r[2], r[3], r[4], r[5], r[6], r[7])
  end
  return table.concat(out, "\n")
end

local function machine()
  local pipe = io.popen("echo $(nproc) cores; uname -sr; nginx -v 2>&1; " ..
    "curl --version | head -1; node --version 2>/dev/null; " ..
    "python3 --version 2>&1")
  local text = pipe:read("a"):gsub("\n+$", ""):gsub("\n", "; ")
  pipe:close()
  return text
end

local started = os.time()
build_limits()
local srv = server.start{entries = CONFIG.entries}
local ok, err = pcall(function()
  row_sequential(srv)
  row_concurrent(srv)
  row_planning(srv)
  row_memory(srv)
end)
srv:stop()
if not ok then error(err, 0) end

local text = table_text()
local header = string.format("Measured %s (UTC) on %s; %d rounds, " ..
  "medians; ratios are client / limit within a round.",
  os.date("!%Y-%m-%d %H:%M", started), machine(), CONFIG.rounds)
print(text)
print(header)
local f = assert(io.open(HERE .. "/results.md", "w"))
f:write("# Benchmark results (written by `make bench`)\n\n", header, "\n\n",
        text, "\n")
f:close()
io.stderr:write(string.format("bench: done in %d s, table in %s\n",
  os.time() - started, HERE .. "/results.md"))

-- The C host example (examples/host): Lua 5.4 embedded in a C program
-- with kiamo.core linked in, a 60 frames per second loop, and several
-- lua_States in one process. Runs the programs `make host` builds
-- against kiamo-mock, which holds every answer 50 ms (--fault-all).

local mock_server = require "support.mock_server"
local shell = require "support.shell"

local ROOT = mock_server.ROOT
local TOKEN = "68d27ac06e53fef962c49a4b0d18691019c3a31a"  -- fixture, all
local DELAY = 0.05
local CALLS = 200
local CONCURRENCY = 16  -- examples/host/status.lua's

local quote = shell.quote


-- Runs a shell command from the repository root, killing it after a
-- minute. Returns its exit code and its output (stdout and stderr).
local function run(command)
  local pipe = assert(io.popen(string.format(
    "cd %s && timeout -s KILL 60 sh -c %s 2>&1; echo \"exit $?\"",
    quote(ROOT), quote(command))))
  local output = pipe:read("*a")
  pipe:close()
  local code = tonumber(output:match("exit (%d+)\n$"))
  return code, output:gsub("exit %d+\n$", "")
end

describe("examples/host", function()
  local server, slow_server

  setup(function()
    local code, output = run("make -s host")
    assert(code == 0, "make host failed:\n" .. output)
    server = assert(mock_server.start{})
    slow_server = assert(mock_server.start{
      args = {"--fault-all", "delay=" .. DELAY}})
  end)

  teardown(function()
    if slow_server then slow_server:stop() end
    if server then server:stop() end
  end)

  it("completes 200 calls answered 50 ms late with no frame over 20 ms",
     function()
    local started = os.time()
    local code, output = run(string.format(
      "KIAMO_URL=%s KIAMO_API_TOKEN=%s LUA_PATH='lua/?.lua;lua/?/init.lua' "
      .. "build/host/kiamo-host examples/host/status.lua %d",
      slow_server.url, TOKEN, CALLS))
    assert.equal(0, code, output)
    assert.matches("calls: 200 ok, 0 failed", output, 1, true)
    local frames, seconds, max = output:match(
      "frames: (%d+) in ([%d.]+) s, frame ms: .- max ([%d.]+),")
    assert.is_truthy(frames, output)
    -- the delay was in force: 200 calls, 16 at a time, 50 ms each
    assert.is_true(tonumber(seconds) >= CALLS / CONCURRENCY * DELAY,
                   output)
    assert.is_true(os.time() - started < 60)
    assert.is_true(tonumber(frames) >= 30, output)
    assert.is_true(tonumber(max) <= 20, "slowest frame " .. max .. " ms")
  end)

  it("gives each lua_State its own sessions and leaves libcurl's global "
     .. "set-up to the host", function()
    local code, output = run(string.format("build/host/two-states %s %s",
      server.url, TOKEN))
    assert.equal(0, code, output)
    local _, oks = output:gsub("ok: ", "")
    assert.equal(7, oks, output)
    assert.is_nil(output:find("failed:", 1, true), output)
  end)
end)

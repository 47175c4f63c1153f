-- progress: show how far a long job is, for the examples.
-- On a terminal one line is redrawn in place ("  created 120/300  85.3/s");
-- elsewhere (a pipe, a log file, CI) a plain line is written at most once
-- a second, and once at the end. KIAMO_PROGRESS=tty|plain|off overrides
-- the detection.

local progress = {}

local Meter = {}
Meter.__index = Meter
Meter.__name = "progress.Meter"

local PLAIN_INTERVAL = 1.0     -- seconds between two plain lines
local REDRAW_INTERVAL = 0.05   -- seconds between two redraws of the tty line
local CLEAR_LINE = "\r\27[K"

local clock
do
  local has_socket, socket = pcall(require, "socket")
  if has_socket and socket.gettime then
    clock = socket.gettime
  else
    clock = os.time
  end
end


-- Seconds since some fixed moment, with sub-second resolution when
-- LuaSocket is installed.
progress.clock = clock


local function stdout_is_terminal()
  if package.config:sub(1, 1) ~= "/" then
    return false
  end
  local term = os.getenv("TERM")
  if not term or term == "" or term == "dumb" then
    return false
  end
  -- os.execute runs the shell with this process's stdout, so `test -t 1`
  -- answers for it (a shell started by io.popen would see its own pipe).
  return os.execute("test -t 1") == true
end


local function display_mode(out)
  local forced = os.getenv("KIAMO_PROGRESS")
  if forced == "tty" or forced == "plain" or forced == "off" then
    return forced
  end
  if out == io.stdout and stdout_is_terminal() then
    return "tty"
  end
  return "plain"
end


-- Starts a meter for `total` items. `label` names what is counted
-- ("synced"), `out` is the file written to (io.stdout by default).
function progress.new(label, total, out)
  out = out or io.stdout
  local now = clock()
  return setmetatable({
    label = label, total = total, done = 0, out = out,
    mode = display_mode(out), started = now, shown_at = now,
    drawn = false,
  }, Meter)
end


function Meter:line()
  local elapsed = clock() - self.started
  local rate = elapsed > 0 and self.done / elapsed or 0
  return string.format("  %s %d/%d  %.1f/s", self.label, self.done,
                       self.total, rate)
end


function Meter:draw()
  if self.mode == "tty" then
    self.out:write(CLEAR_LINE, self:line())
    self.drawn = true
  elseif self.mode == "plain" then
    self.out:write(self:line(), "\n")
  end
  self.out:flush()
  self.shown_at = clock()
end


-- Counts `n` more items done (1 by default) and shows the line when due.
function Meter:step(n)
  self.done = self.done + (n or 1)
  local since = clock() - self.shown_at
  if self.mode == "tty" and since >= REDRAW_INTERVAL then
    self:draw()
  elseif self.mode == "plain" and since >= PLAIN_INTERVAL then
    self:draw()
  end
end


-- Writes a message on its own line without garbling the tty line.
function Meter:say(message)
  if self.drawn then
    self.out:write(CLEAR_LINE)
  end
  self.out:write(message, "\n")
  if self.drawn then
    self.out:write(self:line())
  end
  self.out:flush()
end


-- Shows the final count and leaves the line.
function Meter:finish()
  if self.mode == "tty" then
    self:draw()
    self.out:write("\n")
    self.drawn = false
  elseif self.mode == "plain" then
    self:draw()
  end
  self.out:flush()
end


return progress

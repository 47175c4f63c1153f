-- bench/common.lua: what the Lua bench scripts share. Required after
-- the script has put bench/ on package.path; puts the checkout's lua/
-- and build/lua5.4/ in front of the search paths, so kiamo is the one
-- built here, and reads the URL and counts from args or environment.

local common = {}

local HERE = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".")
local ROOT = HERE .. "/.."

package.path = ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;" ..
  package.path
package.cpath = ROOT .. "/build/lua5.4/?.so;" .. package.cpath

common.TOKEN = "68d27ac06e53fef962c49a4b0d18691019c3a31a"
common.WARMUP = 200

-- The value of argument i, else of the environment variable, else the
-- default; numbers when the default is a number.
function common.arg(i, env, default)
  local v = arg[i]
  if v == nil or v == "" then v = os.getenv(env) end
  if v == nil or v == "" then return default end
  if type(default) == "number" then
    local n = math.tointeger(tonumber(v))
    if not n or n < 0 then
      io.stderr:write(string.format("%s: %s must be a count, got %q\n",
        arg[0], env, v))
      os.exit(2)
    end
    return n
  end
  return v
end

-- The base URL ("http://127.0.0.1:PORT") from a base or an API URL.
function common.base_url(url)
  if not url then
    io.stderr:write(arg[0] .. ": give a URL (argument 1 or BENCH_URL)\n")
    os.exit(2)
  end
  return (url:gsub("/api/v3/.*$", ""))
end

-- A field of /proc/self/status in bytes (VmRSS, VmHWM).
function common.status_bytes(field)
  local f = assert(io.open("/proc/self/status"))
  local text = f:read("a")
  f:close()
  local kib = text:match(field .. ":%s*(%d+) kB")
  return tonumber(kib) * 1024
end

-- Prints the result line the driver reads: name=value pairs.
function common.report(fields)
  local out = {}
  for _, name in ipairs(fields) do
    local v = fields[name]
    if math.type(v) == "float" then v = string.format("%.6f", v) end
    out[#out + 1] = name .. "=" .. tostring(v)
  end
  print(table.concat(out, " "))
end

return common

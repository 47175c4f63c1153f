-- kiamo.mock.faults: read the directives that make kiamo-mock misbehave
-- on purpose (its --faults, --fault-all options), such as
-- "status=429; retry-after=1". The server (kiamo.mock.server) acts on
-- them; this module only checks and reads them.

local faults = {}

local LIMITS = {
  delay = 600,           -- seconds a delay may hold an answer
  retry_after = 86400,   -- seconds a Retry-After may announce
  text = 1024,           -- bytes of directives read at most
}

-- Each directive: what its value must be ("seconds", "integer" or nil
-- for none) and the field it sets in the fault table.
local DIRECTIVES = {
  delay = {value = "seconds", field = "delay"},
  status = {value = "status", field = "status"},
  ["retry-after"] = {value = "integer", field = "retry_after"},
  close = {field = "close"},
  truncate = {field = "truncate"},
  garbage = {field = "garbage"},
  slow = {field = "slow"},
  gzip = {field = "gzip"},
  ["header-case"] = {field = "header_case"},
  none = {field = "none"},
}

local NEEDS = {
  seconds = string.format("a number of seconds from 0 to %d",
                          LIMITS.delay),
  status = "an HTTP status from 200 to 599",
  integer = string.format("a whole number of seconds from 0 to %d",
                          LIMITS.retry_after),
}


-- The text as an error message may quote it: printable ASCII only.
local function quoted(text)
  return "'" .. text:gsub("[^\32-\126]", "?") .. "'"
end


-- The value of a directive, or nil when it is not of the kind asked.
local function read_value(kind, text)
  if kind == "seconds" then
    if not text:match("^%d*%.?%d+$") and not text:match("^%d+%.$") then
      return nil
    end
    local seconds = tonumber(text)
    return seconds and seconds <= LIMITS.delay and seconds or nil
  end
  if not text:match("^%d+$") or #text > 6 then return nil end
  local number = math.tointeger(tonumber(text))
  if kind == "status" then
    return number >= 200 and number <= 599 and number or nil
  end
  return number <= LIMITS.retry_after and number or nil
end


-- faults.parse(text) -> a fault table, or nil and a message naming the
-- directive at fault. Directives are separated by ";", with whitespace
-- allowed around names, "=" and values; names are case-insensitive.
-- The table has the fields delay, status, retry_after (numbers) and
-- close, truncate, garbage, slow, gzip, header_case (true when given);
-- "none" alone gives an empty table (no fault).
function faults.parse(text)
  if type(text) ~= "string" then return nil, "fault directives missing" end
  if #text > LIMITS.text then
    return nil, string.format("fault directives longer than %d bytes",
                              LIMITS.text)
  end
  local fault, count = {}, 0
  for item in (text .. ";"):gmatch("([^;]*);") do
    local name, value = item:match("^%s*([^=]-)%s*=%s*(.-)%s*$")
    name = name or item:match("^%s*(.-)%s*$")
    if name ~= "" or value then
      local directive = DIRECTIVES[name:lower()]
      if not directive then
        return nil, "unknown fault directive " .. quoted(name)
      end
      name = name:lower()
      if fault[directive.field] ~= nil then
        return nil, "fault directive " .. quoted(name) .. " given twice"
      end
      if directive.value then
        local number = value and read_value(directive.value, value)
        if not number then
          return nil, string.format("fault directive %s needs %s, got %s",
            quoted(name), NEEDS[directive.value],
            value and quoted(value) or "no value")
        end
        fault[directive.field] = number
      elseif value then
        return nil, "fault directive " .. quoted(name) .. " takes no value"
      else
        fault[directive.field] = true
      end
      count = count + 1
    end
  end
  if count == 0 then return nil, "no fault directive given" end
  if fault.none then
    if count > 1 then
      return nil, "fault directive 'none' cannot be given with others"
    end
    fault.none = nil
  end
  return fault
end


-- The order in which describe names the directives.
local ORDER = {"delay", "status", "retry-after", "close", "truncate",
               "garbage", "slow", "gzip", "header-case"}


-- faults.describe(fault) -> the directives of a fault table as one line,
-- such as "status=429 retry-after=1".
function faults.describe(fault)
  local words = {}
  for _, name in ipairs(ORDER) do
    local value = fault[DIRECTIVES[name].field]
    if value == true then
      words[#words + 1] = name
    elseif value then
      words[#words + 1] = name .. "=" .. value
    end
  end
  return table.concat(words, " ")
end


faults.LIMITS = LIMITS

return faults

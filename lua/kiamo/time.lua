-- kiamo.time: builders for planning periods and weekly schedules.
-- Every computation is done on UTC civil dates with integer arithmetic;
-- the machine's time zone never matters (os.time is not used).
--
-- A time is an ISO 8601 UTC string "YYYY-MM-DDTHH:MM:SSZ" or
-- "YYYY-MM-DDTHH:MMZ", a whole number of epoch seconds (os.time()), or a
-- table with integer year, month, day, hour and optional min and sec
-- (os.date("!*t"), read as UTC). Times must fall on a quarter hour,
-- seconds included; impossible dates are refused, never normalised.
-- Schedules use a fixed UTC offset (no daylight saving rules); a slot
-- whose stop is at or before its start ends on the next day, and
-- "24:00" is the end of a day.

local compat = require "kiamo.compat"

local time = {}

local idiv = compat.idiv

local QUARTER = 15 * 60
local DAY = 24 * 60 * 60
local MAX_OFFSET_MINUTES = 18 * 60

local WEEKDAYS = {
  mon = 1, tue = 2, wed = 3, thu = 4, fri = 5, sat = 6, sun = 7,
  monday = 1, tuesday = 2, wednesday = 3, thursday = 4, friday = 5,
  saturday = 6, sunday = 7,
}

local function is_leap(y)
  return y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)
end

local function days_in_month(y, m)
  if m == 2 then return is_leap(y) and 29 or 28 end
  if m == 4 or m == 6 or m == 9 or m == 11 then return 30 end
  return 31
end

-- Days since 1970-01-01 of a proleptic Gregorian date (valid input only).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = idiv(y, 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = idiv(153 * mp + 2, 5) + d - 1
  local doe = yoe * 365 + idiv(yoe, 4) - idiv(yoe, 100) + doy
  return era * 146097 + doe - 719468
end

-- The inverse: year, month, day of a day count since 1970-01-01.
local function civil_from_days(z)
  z = z + 719468
  local era = idiv(z, 146097)
  local doe = z - era * 146097
  local yoe = idiv(doe - idiv(doe, 1460) + idiv(doe, 36524)
    - idiv(doe, 146096), 365)
  local doy = doe - (365 * yoe + idiv(yoe, 4) - idiv(yoe, 100))
  local mp = idiv(5 * doy + 2, 153)
  local d = doy - idiv(153 * mp + 2, 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m, d
end

-- ISO weekday (Monday 1 ... Sunday 7) of a day count; 1970-01-01 was a
-- Thursday.
local function weekday(days)
  return (days + 3) % 7 + 1
end

local function valid_date(y, m, d)
  return y >= 1 and y <= 9999 and m >= 1 and m <= 12
    and d >= 1 and d <= days_in_month(y, m)
end

-- Epoch seconds of a UTC civil time, or nil if it is impossible.
local function epoch(y, m, d, hh, mm, ss)
  if not valid_date(y, m, d) or hh < 0 or hh > 23 or mm < 0 or mm > 59
    or ss < 0 or ss > 59 then
    return nil
  end
  return days_from_civil(y, m, d) * DAY + hh * 3600 + mm * 60 + ss
end

local function format_epoch(t)
  local days = idiv(t, DAY)
  local rest = t - days * DAY
  local y, m, d = civil_from_days(days)
  return string.format("%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d,
                       idiv(rest, 3600), idiv(rest % 3600, 60), rest % 60)
end

local function describe(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

local function table_field(t, name, default)
  local v = t[name]
  if v == nil then return default end
  return compat.tointeger(v)
end

-- Epoch seconds of one period end given as an ISO string, a number or a
-- date table; raises naming `what` and the value.
local function to_epoch(v, what, where)
  local t
  if type(v) == "string" then
    local y, m, d, hh, mm, ss =
      v:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)Z$")
    if not y then
      y, m, d, hh, mm = v:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d)Z$")
      ss = "0"
    end
    if not y then
      error(string.format("%s: %s %s is not an ISO 8601 UTC time "
        .. "(YYYY-MM-DDTHH:MM:SSZ)", where, what, describe(v)), 0)
    end
    t = epoch(tonumber(y), tonumber(m), tonumber(d), tonumber(hh),
              tonumber(mm), tonumber(ss))
  elseif type(v) == "number" then
    t = compat.tointeger(v)
    if not t then
      error(string.format("%s: %s %s is not a whole number of seconds",
        where, what, describe(v)), 0)
    end
    if t < epoch(1, 1, 1, 0, 0, 0) or t > epoch(9999, 12, 31, 23, 59, 59)
    then
      t = nil
    end
  elseif type(v) == "table" then
    local y, m, d = table_field(v, "year"), table_field(v, "month"),
      table_field(v, "day")
    local hh, mm, ss = table_field(v, "hour"), table_field(v, "min", 0),
      table_field(v, "sec", 0)
    if y and m and d and hh and mm and ss then
      t = epoch(y, m, d, hh, mm, ss)
    end
    if not t then
      error(string.format("%s: %s is not a valid date table (integer "
        .. "year, month, day, hour, optional min and sec)", where, what), 0)
    end
    v = format_epoch(t)
  else
    error(string.format("%s: %s must be an ISO string, a number or a date "
      .. "table, got %s", where, what, type(v)), 0)
  end
  if not t then
    error(string.format("%s: %s %s is not a possible date", where, what,
      describe(v)), 0)
  end
  if t % QUARTER ~= 0 then
    error(string.format("%s: %s %s is not on a quarter hour", where, what,
      describe(v)), 0)
  end
  return t
end

local function make_period(t1, t2)
  return {startTime = format_epoch(t1), endTime = format_epoch(t2)}
end

-- kiamo.period(start, stop) -> {startTime = "...Z", endTime = "...Z"}.
function time.period(start, stop, where)
  where = where or "kiamo.period"
  local t1 = to_epoch(start, "start", where)
  local t2 = to_epoch(stop, "stop", where)
  if t2 <= t1 then
    error(string.format("%s: stop %s is not after start %s", where,
      describe(format_epoch(t2)), describe(format_epoch(t1))), 0)
  end
  return make_period(t1, t2)
end

local function parse_date(v, field)
  local y, m, d
  if type(v) == "string" then
    y, m, d = v:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
    y, m, d = tonumber(y), tonumber(m), tonumber(d)
  elseif type(v) == "table" then
    y, m, d = table_field(v, "year"), table_field(v, "month"),
      table_field(v, "day")
  end
  if not (y and m and d and valid_date(y, m, d)) then
    error(string.format("kiamo.schedule: %s %s is not a date "
      .. "(YYYY-MM-DD or a table with year, month, day)", field,
      describe(v)), 0)
  end
  return days_from_civil(y, m, d)
end

-- Minutes since midnight of "HH:MM" (24:00 allowed as the end of a day).
local function parse_clock(v, field)
  local hh, mm
  if type(v) == "string" then
    hh, mm = v:match("^(%d%d?):(%d%d)$")
    hh, mm = tonumber(hh), tonumber(mm)
  end
  if not hh or mm > 59 or hh > 24 or (hh == 24 and mm ~= 0) then
    error(string.format("kiamo.schedule: %s %s is not a time of day "
      .. "(HH:MM)", field, describe(v)), 0)
  end
  if mm % 15 ~= 0 then
    error(string.format("kiamo.schedule: %s %s is not on a quarter hour",
      field, describe(v)), 0)
  end
  return hh * 60 + mm
end

local function parse_offset(v)
  local minutes
  if v == nil or v == "Z" then
    minutes = 0
  elseif type(v) == "number" then
    minutes = compat.tointeger(v)
  elseif type(v) == "string" then
    local sign, hh, mm = v:match("^([+-])(%d%d):?(%d%d)$")
    if sign then
      minutes = tonumber(hh) * 60 + tonumber(mm)
      if tonumber(mm) > 59 then minutes = nil end
      if minutes and sign == "-" then minutes = -minutes end
    end
  end
  if not minutes or math.abs(minutes) > MAX_OFFSET_MINUTES then
    error(string.format("kiamo.schedule: utc_offset %s is not an offset "
      .. "(\"+HH:MM\", \"-HH:MM\", \"Z\" or minutes)", describe(v)), 0)
  end
  if minutes % 15 ~= 0 then
    error(string.format("kiamo.schedule: utc_offset %s is not a whole "
      .. "number of quarter hours", describe(v)), 0)
  end
  return minutes
end

local function parse_days(v)
  local set = {}
  if v == nil then
    for d = 1, 7 do set[d] = true end
    return set
  end
  if type(v) ~= "table" or #v == 0 then
    error("kiamo.schedule: days must be a non-empty list of weekdays", 0)
  end
  for i, name in ipairs(v) do
    local d
    if type(name) == "string" then
      d = WEEKDAYS[name:lower()]
    elseif compat.math_type(name) == "integer" and name >= 1 and name <= 7 then
      d = name
    end
    if not d then
      error(string.format("kiamo.schedule: days[%d] %s is not a weekday "
        .. "(\"mon\"..\"sun\" or 1..7, Monday 1)", i, describe(name)), 0)
    end
    set[d] = true
  end
  return set
end

local function parse_slots(v)
  if type(v) ~= "table" or #v == 0 then
    error("kiamo.schedule: slots must be a non-empty list of "
      .. "{\"HH:MM\", \"HH:MM\"} pairs", 0)
  end
  local slots = {}
  for i, slot in ipairs(v) do
    if type(slot) ~= "table" then
      error(string.format("kiamo.schedule: slots[%d] must be a "
        .. "{\"HH:MM\", \"HH:MM\"} pair, got %s", i, type(slot)), 0)
    end
    local field = string.format("slots[%d]", i)
    local from = parse_clock(slot[1], field .. " start")
    local to = parse_clock(slot[2], field .. " stop")
    if from == 24 * 60 then
      error(string.format("kiamo.schedule: %s start \"24:00\" is not a "
        .. "start of day", field), 0)
    end
    if to == from then
      error(string.format("kiamo.schedule: %s stop %s equals its start",
        field, describe(slot[2])), 0)
    end
    -- A stop at or before the start runs into the next day (night shift).
    if to < from then to = to + 24 * 60 end
    slots[i] = {from, to}
  end
  return slots
end

-- kiamo.schedule{from=, to=, days=, slots=, utc_offset=} -> list of
-- periods in UTC, by date then slot order.
function time.schedule(spec)
  if type(spec) ~= "table" then
    error("kiamo.schedule: argument must be a table", 0)
  end
  local first = parse_date(spec.from, "from")
  local last = parse_date(spec.to, "to")
  if last < first then
    error(string.format("kiamo.schedule: to %s is before from %s",
      describe(spec.to), describe(spec.from)), 0)
  end
  local days = parse_days(spec.days)
  local slots = parse_slots(spec.slots)
  local offset = parse_offset(spec.utc_offset) * 60
  local periods = {}
  for day = first, last do
    if days[weekday(day)] then
      for _, slot in ipairs(slots) do
        local base = day * DAY - offset
        periods[#periods + 1] =
          make_period(base + slot[1] * 60, base + slot[2] * 60)
      end
    end
  end
  return periods
end

-- Exposed for the specs and the other modules.
time.days_from_civil = days_from_civil
time.epoch = epoch
time.civil_from_days = civil_from_days
time.format_epoch = format_epoch

return time

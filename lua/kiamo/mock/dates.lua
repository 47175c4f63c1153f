-- kiamo.mock.dates: the API's dates, "YYYY-MM-DDTHH:MM:SSZ" in UTC, as
-- whole minutes since 1970-01-01T00:00Z (seconds dropped), and back.

local dates = {}

local DAYS_IN_MONTH = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

local function is_leap(year)
  return year % 4 == 0 and (year % 100 ~= 0 or year % 400 == 0)
end

-- Days since 1970-01-01 of a proleptic Gregorian date.
local function days_from_civil(year, month, day)
  if month <= 2 then year = year - 1 end
  local era = year // 400
  local year_of_era = year - era * 400
  local shifted_month = (month + 9) % 12
  local day_of_year = (153 * shifted_month + 2) // 5 + day - 1
  local day_of_era = year_of_era * 365 + year_of_era // 4
    - year_of_era // 100 + day_of_year
  return era * 146097 + day_of_era - 719468
end

local function civil_from_days(days)
  days = days + 719468
  local era = days // 146097
  local day_of_era = days - era * 146097
  local year_of_era = (day_of_era - day_of_era // 1460
    + day_of_era // 36524 - day_of_era // 146096) // 365
  local day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4
    - year_of_era // 100)
  local shifted_month = (5 * day_of_year + 2) // 153
  local day = day_of_year - (153 * shifted_month + 2) // 5 + 1
  local month = shifted_month < 10 and shifted_month + 3
    or shifted_month - 9
  local year = year_of_era + era * 400
  if month <= 2 then year = year + 1 end
  return year, month, day
end

--- Minutes since the epoch of an ISO 8601 UTC string, seconds dropped, or
-- nil when the value is not such a string or names an impossible date.
function dates.parse(text)
  if type(text) ~= "string" then return nil end
  local year, month, day, hour, minute, second = text:match(
    "^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)Z$")
  if not year then return nil end
  year, month, day = tonumber(year), tonumber(month), tonumber(day)
  hour, minute, second = tonumber(hour), tonumber(minute), tonumber(second)
  if month < 1 or month > 12 or day < 1 or hour > 23 or minute > 59
      or second > 59 then
    return nil
  end
  local last = DAYS_IN_MONTH[month]
  if month == 2 and is_leap(year) then last = 29 end
  if day > last then return nil end
  return days_from_civil(year, month, day) * 1440 + hour * 60 + minute
end

--- The ISO 8601 UTC string of minutes since the epoch, with ":00" seconds.
function dates.format(minutes)
  local days, minute_of_day = minutes // 1440, minutes % 1440
  local year, month, day = civil_from_days(days)
  return string.format("%04d-%02d-%02dT%02d:%02d:00Z", year, month, day,
    minute_of_day // 60, minute_of_day % 60)
end

return dates

-- Specs for the period and schedule builders (kiamo.time), which the
-- public module exposes as kiamo.period and kiamo.schedule.

local time = require "kiamo.time"

local function fails_with(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok)
  assert.is_string(err)
  assert.truthy(err:find(pattern, 1, true),
    "expected message containing " .. pattern .. ", got " .. err)
  return err
end

describe("kiamo.period", function()
  it("keeps ISO UTC strings and writes :00 seconds", function()
    local p = time.period("2026-12-07T09:00:00Z", "2026-12-07T09:45Z")
    assert.same({startTime = "2026-12-07T09:00:00Z",
                 endTime = "2026-12-07T09:45:00Z"}, p)
  end)

  it("reads os.time() style epoch seconds as UTC", function()
    -- 2026-12-07T09:00:00Z is 1796634000 seconds after the epoch.
    local p = time.period(1796634000, 1796634000 + 3600)
    assert.same({startTime = "2026-12-07T09:00:00Z",
                 endTime = "2026-12-07T10:00:00Z"}, p)
  end)

  it("agrees with os.date('!...') on any quarter hour", function()
    for t = 0, 4102444800, 7 * 86400 * 13 + 900 do
      local p = time.period(t, t + 900)
      assert.equal(os.date("!%Y-%m-%dT%H:%M:%SZ", t), p.startTime)
    end
  end)

  it("reads os.date('!*t') tables as UTC", function()
    local p = time.period(os.date("!*t", 1796634000),
                          {year = 2026, month = 12, day = 8, hour = 0})
    assert.same({startTime = "2026-12-07T09:00:00Z",
                 endTime = "2026-12-08T00:00:00Z"}, p)
  end)

  it("handles leap days and year ends", function()
    local p = time.period("2028-02-29T23:45:00Z", "2029-01-01T00:00:00Z")
    assert.equal("2028-02-29T23:45:00Z", p.startTime)
    fails_with('"2027-02-29T00:00:00Z" is not a possible date',
      time.period, "2027-02-29T00:00:00Z", "2027-03-01T00:00:00Z")
    fails_with("is not a possible date", time.period,
      "2026-12-07T24:00:00Z", "2026-12-08T01:00:00Z")
  end)

  it("refuses a start off the quarter hour, naming it", function()
    local err = fails_with(
      'kiamo.period: start "2026-12-07T09:10:00Z" is not on a quarter hour',
      time.period, "2026-12-07T09:10:00Z", "2026-12-07T10:00:00Z")
    assert.is_nil(err:find("%.lua:%d+"))
  end)

  it("refuses seconds, numbers and tables off the quarter hour", function()
    fails_with('stop "2026-12-07T10:00:30Z" is not on a quarter hour',
      time.period, "2026-12-07T09:00:00Z", "2026-12-07T10:00:30Z")
    fails_with("start 1796634060 is not on a quarter hour",
      time.period, 1796634060, 1796637600)
    fails_with('stop "2026-12-07T10:05:00Z" is not on a quarter hour',
      time.period, 1796634000,
      {year = 2026, month = 12, day = 7, hour = 10, min = 5})
  end)

  it("refuses a stop that is not after the start", function()
    fails_with('stop "2026-12-07T09:00:00Z" is not after start '
      .. '"2026-12-07T09:00:00Z"',
      time.period, "2026-12-07T09:00:00Z", "2026-12-07T09:00:00Z")
    fails_with("is not after start", time.period,
      "2026-12-07T10:00:00Z", "2026-12-07T09:00:00Z")
  end)

  it("refuses other ISO forms and other types, naming the value", function()
    for _, s in ipairs{"2026-12-07T09:00:00+01:00", "2026-12-07 09:00:00Z",
                       "2026-12-07T09:00:00.000Z", "2026-12-07"} do
      fails_with(string.format("start %q is not an ISO 8601 UTC time", s),
        time.period, s, "2026-12-08T00:00:00Z")
    end
    fails_with("start 1.5 is not a whole number of seconds",
      time.period, 1.5, 900)
    fails_with("stop must be an ISO string, a number or a date table, "
      .. "got boolean", time.period, 0, true)
    fails_with("start is not a valid date table", time.period,
      {year = 2026, month = 2, day = 30, hour = 0}, 0)
    fails_with("start is not a valid date table", time.period,
      {year = 2026, month = 2, day = 3}, 0)
  end)
end)

describe("kiamo.schedule", function()
  local week = {from = "2026-12-07", to = "2026-12-13",
                days = {"mon", "tue", "wed", "thu", "fri"},
                slots = {{"09:00", "12:30"}, {"13:30", "17:00"}}}

  it("builds the periods of weekdays in date then slot order", function()
    local periods = time.schedule(week)
    assert.equal(10, #periods)
    assert.same({startTime = "2026-12-07T09:00:00Z",
                 endTime = "2026-12-07T12:30:00Z"}, periods[1])
    assert.same({startTime = "2026-12-07T13:30:00Z",
                 endTime = "2026-12-07T17:00:00Z"}, periods[2])
    assert.same({startTime = "2026-12-11T13:30:00Z",
                 endTime = "2026-12-11T17:00:00Z"}, periods[10])
  end)

  it("converts local times at a fixed UTC offset", function()
    local plus = time.schedule{from = "2026-12-07", to = "2026-12-07",
      slots = {{"00:30", "09:00"}}, utc_offset = "+01:00"}
    assert.same({{startTime = "2026-12-06T23:30:00Z",
                  endTime = "2026-12-07T08:00:00Z"}}, plus)
    local minus = time.schedule{from = "2026-12-07", to = "2026-12-07",
      slots = {{"09:00", "10:00"}}, utc_offset = -330}
    assert.same({{startTime = "2026-12-07T14:30:00Z",
                  endTime = "2026-12-07T15:30:00Z"}}, minus)
  end)

  it("accepts weekday numbers with Monday 1 and full names", function()
    local by_number = time.schedule{from = "2026-12-07", to = "2026-12-13",
      days = {7, 1}, slots = {{"08:00", "09:00"}}}
    local by_name = time.schedule{from = "2026-12-07", to = "2026-12-13",
      days = {"Sunday", "MON"}, slots = {{"08:00", "09:00"}}}
    assert.same(by_number, by_name)
    assert.equal(2, #by_number)
    assert.equal("2026-12-07T08:00:00Z", by_number[1].startTime)
    assert.equal("2026-12-13T08:00:00Z", by_number[2].startTime)
  end)

  it("runs a slot whose stop is before its start into the next day",
    function()
      local night = time.schedule{from = "2026-12-31", to = "2026-12-31",
        slots = {{"22:00", "06:00"}, {"18:00", "24:00"}}}
      assert.same({{startTime = "2026-12-31T22:00:00Z",
                    endTime = "2027-01-01T06:00:00Z"},
                   {startTime = "2026-12-31T18:00:00Z",
                    endTime = "2027-01-01T00:00:00Z"}}, night)
    end)

  it("refuses bad input, naming the field", function()
    local function with(field, value)
      local spec = {}
      for k, v in pairs(week) do spec[k] = v end
      spec[field] = value
      return spec
    end
    fails_with('from "2026-13-01" is not a date', time.schedule,
      with("from", "2026-13-01"))
    fails_with("to nil is not a date", time.schedule, with("to", nil))
    fails_with('to "2026-12-01" is before from "2026-12-07"',
      time.schedule, with("to", "2026-12-01"))
    fails_with('days[2] "xyz" is not a weekday', time.schedule,
      with("days", {"mon", "xyz"}))
    fails_with("days[1] 0 is not a weekday", time.schedule,
      with("days", {0}))
    fails_with('slots[1] start "09:10" is not on a quarter hour',
      time.schedule, with("slots", {{"09:10", "10:00"}}))
    fails_with('slots[2] stop "25:00" is not a time of day',
      time.schedule, with("slots", {{"09:00", "10:00"}, {"11:00", "25:00"}}))
    fails_with('slots[1] stop "09:00" equals its start', time.schedule,
      with("slots", {{"09:00", "09:00"}}))
    fails_with("slots must be a non-empty list", time.schedule,
      with("slots", {}))
    fails_with('utc_offset "+1" is not an offset', time.schedule,
      with("utc_offset", "+1"))
    fails_with("utc_offset 7 is not a whole number of quarter hours",
      time.schedule, with("utc_offset", 7))
    fails_with("argument must be a table", time.schedule, "week")
  end)
end)

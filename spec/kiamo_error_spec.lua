-- Specs for the error object (kiamo.Error) on its own; the errors that
-- real requests produce are checked in kiamo_session_spec.lua.

local Error = require "kiamo.error"

describe("kiamo.Error", function()
  it("is the metatable of its objects and names its type", function()
    local err = Error.new{kind = "http", status = 404}
    assert.equal(Error, getmetatable(err))
    assert.equal("kiamo.Error", getmetatable(err).__name)
    assert.is_true(Error.is(err))
    assert.is_false(Error.is({kind = "http"}))
  end)

  it("prints an HTTP error as one line with the path only", function()
    local err = Error.new{kind = "http", status = 400, code = "ERR_1010",
      info = "Json attributes are missing: periods", method = "POST",
      url = "http://127.0.0.1:8080/api/v3/activities/planning?per_page=2"}
    assert.equal("kiamo: 400 ERR_1010 Json attributes are missing: periods"
      .. " (POST /api/v3/activities/planning)", tostring(err))
  end)

  it("prints an HTTP error without a code", function()
    local err = Error.new{kind = "http", status = 404,
      info = "The agent does not exist", method = "GET",
      url = "https://kiamo.example:8443/api/v3/agents/9"}
    assert.equal("kiamo: 404 The agent does not exist (GET /api/v3/agents/9)",
      tostring(err))
  end)

  it("prints transport errors with their kind and message", function()
    local err = Error.new{kind = "timeout", method = "GET",
      message = "operation timed out after 200 ms",
      url = "http://[::1]:9/api/v3/agents/30"}
    assert.equal("kiamo: timeout: operation timed out after 200 ms "
      .. "(GET /api/v3/agents/30)", tostring(err))
  end)

  it("keeps one line whatever the server's text holds", function()
    local err = Error.new{kind = "http", status = 500, info = "a\r\nb",
      method = "GET", url = "http://h/x"}
    assert.equal("kiamo: 500 a b (GET /x)", tostring(err))
  end)

  it("refuses an unknown kind", function()
    assert.has_error(function() Error.new{kind = "other"} end)
  end)
end)

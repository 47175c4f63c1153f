-- Inputs the fuzz harnesses (fuzz/) found, kept as specs of the C core.
-- Some only misbehave under the sanitizers: run them with
-- tools/check-memory as well as plainly.

local core = require "kiamo.core"

local TOKEN = "0123456789abcdef0123456789abcdef01234567"

-- A loopback port with nothing listening: bound, then released.
local function closed_port()
  local socket = require "socket"
  local probe = assert(socket.bind("127.0.0.1", 0))
  local _, port = probe:getsockname()
  probe:close()
  return port
end

describe("kiamo.core on inputs found by fuzzing", function()
  it("refuses a JSON number beyond the range of a double instead of "
     .. "decoding an infinity it cannot encode again", function()
    for text, byte in pairs{["[1e400]"] = 2, ["-1e400"] = 1,
                            ['{"x":5E5555555555555575527555555}'] = 6} do
      local value, err = core.decode(text)
      assert.is_nil(value, text)
      assert.matches("^json: at byte " .. byte .. ": ", err)
    end
    assert.equal(1e308, core.decode("1e308"))
    assert.equal("[1e+308]", core.encode(core.decode("[1e308]")))
  end)

  it("answers nil for a header of a request that got no response",
     function()
    -- the header block is then empty and has no buffer at all
    local s = core.session{url = "http://127.0.0.1:" .. closed_port(),
                           token = TOKEN, connect_timeout = 5}
    finally(function() s:close() end)
    local req = s:prepare("GET", "/agents/1")
    local ok, kind = s:perform(req)
    assert.is_nil(ok)
    assert.equal("connect", kind)
    assert.is_nil(req:header("Date"))
    assert.is_nil(req:header(""))
  end)
end)

-- The C core's JSON codec, checked byte for byte both ways.

local core = require "kiamo.core"

local encode, decode = core.encode, core.decode

-- LuaJIT has no integer type (no math.type): integers beyond 2^53 decode
-- as strings of their exact digits, and only Lua 5.3+ can hold them.
local HAS_INTEGERS = math.type ~= nil

describe("kiamo.core JSON", function()
  describe("encode", function()
    it("writes integers as integers, 64-bit exact", function()
      assert.equal("30", encode(30))
      assert.equal("9007199254740992", encode(2 ^ 53))
      if HAS_INTEGERS then
        assert.equal("9007199254740993", encode(9007199254740993))
        assert.equal("-9223372036854775808", encode(math.mininteger))
        assert.equal("9223372036854775807", encode(math.maxinteger))
      end
    end)

    it("writes integral floats as integers, others so they read back",
       function()
      assert.equal("2", encode(2.0))
      assert.equal("1.5", encode(1.5))
      assert.equal("0.1", encode(0.1))
      assert.equal(0.1 + 0.2, decode(encode(0.1 + 0.2)))
      assert.equal("1e+300", encode(1e300))
    end)

    it("sends an empty table as an empty array", function()
      assert.equal('{"activities":[]}', encode{activities = {}})
      assert.equal("[]", encode(core.array{}))
      assert.equal("{}", encode(core.object{}))
    end)

    it("writes object keys sorted, so equal tables give equal bytes",
       function()
      assert.equal('{"a":1,"b":2,"c":{"x":true,"y":false}}',
                   encode{c = {y = false, x = true}, b = 2, a = 1})
    end)

    it("writes null for kiamo.null, also inside arrays", function()
      assert.equal('[1,null,3]', encode{1, core.null, 3})
      assert.equal('{"team":null}', encode{team = core.null})
      assert.equal('[1,null,3]', encode(core.array{1, nil, 3, n = 3}))
    end)

    it("escapes quotes, backslashes and control characters", function()
      assert.equal([["a\"b\\c\n\r\t\b\f\u0001\u001f/"]],
                   encode("a\"b\\c\n\r\t\b\f\1\31/"))
    end)

    it("passes valid UTF-8 through and refuses invalid UTF-8", function()
      assert.equal('"\u{e9}\u{1f600}"', encode("\u{e9}\u{1f600}"))
      for _, bad in ipairs{"\xff", "\xc3", "\xc0\xaf", "\xed\xa0\x80",
                           "\xf4\x90\x80\x80"} do
        local ok, err = pcall(encode, {name = bad})
        assert.is_false(ok)
        assert.matches("json: name: string is not valid UTF%-8", err)
      end
    end)

    it("names the place of what it cannot encode", function()
      local cases = {
        [{agents = {1, 2, print}}] = "json: agents%[3%]: cannot encode a",
        [{x = {y = 0 / 0}}] = "json: x.y: number is NaN or infinite",
        [{1, nil, 3}] = "array has holes",
        [{1, 2, a = 3}] = "mixes array items and object keys",
        [{[true] = 1}] = "neither 1..n nor strings",
        [{p = math.huge}] = "json: p: number is NaN or infinite",
      }
      for value, message in pairs(cases) do
        local ok, err = pcall(encode, value)
        assert.is_false(ok)
        assert.matches(message, err)
      end
    end)

    it("refuses a cycle instead of looping", function()
      local t = {}
      t.self = t
      local ok, err = pcall(encode, t)
      assert.is_false(ok)
      assert.matches("nested too deep", err)
    end)
  end)

  describe("decode", function()
    it("reads integers as Lua integers, 64-bit exact", function()
      local v = decode('{"id": 9007199254740993, "n": -9223372036854775808}')
      if HAS_INTEGERS then
        assert.equal("integer", math.type(v.id))
        assert.equal(9007199254740993, v.id)
        assert.equal(math.mininteger, v.n)
      else
        assert.equal("9007199254740993", v.id)
        assert.equal("-9223372036854775808", v.n)
        assert.equal(9007199254740992, decode("9007199254740992"))
      end
      assert.equal("/agents/30", "/agents/" .. decode("30"))
    end)

    it("reads fractions and exponents as floats", function()
      assert.equal(1.0, decode("1.0"))
      assert.equal(100.0, decode("1e2"))
      if HAS_INTEGERS then
        assert.equal("float", math.type(decode("1.0")))
        assert.equal("float", math.type(decode("1E+2")))
      end
      assert.equal(1e20, decode("100000000000000000000"))
    end)

    it("keeps the kind of empty arrays and objects for re-encoding",
       function()
      local v = decode('{"a": [], "o": {}}')
      assert.equal(core.array_mt, getmetatable(v.a))
      assert.equal(core.object_mt, getmetatable(v.o))
      assert.equal('{"a":[],"o":{}}', encode(v))
    end)

    it("reads null as kiamo.null", function()
      local v = decode('[null, {"url": null}]')
      assert.equal(core.null, v[1])
      assert.equal(core.null, v[2].url)
      assert.equal(2, #v)
    end)

    it("decodes escapes and surrogate pairs to UTF-8", function()
      assert.equal("a\"\\/\b\f\n\r\t\u{e9}\u{1f600}",
                   decode([["a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"]]))
    end)

    it("refuses what RFC 8259 refuses, naming the byte", function()
      local cases = {
        ["[1,]"] = "unexpected character", ["01"] = "leading zero",
        ['"\xff"'] = "not valid UTF%-8", ["[1] x"] = "after the value",
        ['"a\nb"'] = "control character", ['"\\ud800"'] = "surrogate",
        ['"\\udc00"'] = "surrogate", ["{'a':1}"] = "string key",
        ["1."] = "invalid number", ["-"] = "invalid number",
        [""] = "end of input", ["tru"] = "unexpected character",
        ['{"a" 1}'] = "expected ':'", ['"abc'] = "unfinished string",
        ["NaN"] = "unexpected character",
      }
      for text, message in pairs(cases) do
        local v, err = decode(text)
        assert.is_nil(v, text)
        assert.matches("^json: at byte %d+: .*" .. message, err)
      end
      assert.equal("json: at byte 4: unexpected character",
                   select(2, decode("[1,]")))
    end)

    it("reads long arrays of tricky strings exactly, around every size",
       function()
      local cjson = require "cjson"
      for _, n in ipairs{4095, 4096, 4097, 9000} do
        local items = {}
        for i = 1, n do
          items[i] = (i % 3 == 0) and string.format('"[%d],\\"{]"', i)
            or (i % 3 == 1 and tostring(i) or '{"k": "a,]b"}')
        end
        local text = "[" .. table.concat(items, ",") .. "]"
        local ours, theirs = decode(text), cjson.decode(text)
        assert.equal(n, #ours)
        for i = 1, n do
          if type(theirs[i]) == "table" then
            assert.equal(theirs[i].k, ours[i].k)
          else
            assert.equal(theirs[i], ours[i])
          end
        end
      end
    end)

    it("reads the same keys again and again as the same strings",
       function()
      local parts = {}
      for i = 1, 300 do
        parts[i] = string.format('{"id": %d, "k%d": %d, "id ": 0}', i,
                                 i % 70, i)
      end
      local v = decode("[" .. table.concat(parts, ",") .. "]")
      for i = 1, 300 do
        assert.equal(i, v[i].id)
        assert.equal(i, v[i]["k" .. (i % 70)])
        assert.equal(0, v[i]["id "])
        local n = 0
        for _ in pairs(v[i]) do n = n + 1 end
        assert.equal(3, n)
      end
    end)

    it("refuses deep nesting without crashing", function()
      local v, err = decode(string.rep("[", 100000))
      assert.is_nil(v)
      assert.matches("nested too deep", err)
    end)
  end)

  it("writes numbers with a dot whatever the locale", function()
    local saved = os.setlocale(nil, "numeric")
    local locale = os.setlocale("fr_FR.UTF-8", "numeric")
        or os.setlocale("de_DE.UTF-8", "numeric")
    finally(function() os.setlocale(saved, "numeric") end)
    assert.is_truthy(locale, "a locale with a decimal comma is installed")
    -- LuaJIT formats numbers itself, whatever the C locale
    if not rawget(_G, "jit") then
      assert.equal("1,5", string.format("%.1f", 1.5))
    end
    assert.equal("1.5", encode(1.5))
    assert.equal(1.5, decode("1.5"))
  end)
end)

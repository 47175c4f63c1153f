local json = require "kiamo.mock.json"

describe("kiamo.mock.json", function()
  describe("decode", function()
    it("decodes objects, arrays and scalars with their metatables", function()
      local v = assert(json.decode(' {"a" : [1, 2.5, "x", true, false, null],'
        .. ' "b": {}} '))
      assert.equal(json.object_mt, getmetatable(v))
      assert.equal(json.array_mt, getmetatable(v.a))
      assert.equal(json.object_mt, getmetatable(v.b))
      assert.equal(6, #v.a)
      assert.equal(1, v.a[1])
      assert.equal(2.5, v.a[2])
      assert.equal("x", v.a[3])
      assert.is_true(v.a[4])
      assert.is_false(v.a[5])
      assert.equal(json.null, v.a[6])
    end)

    it("keeps integers as Lua integers and the rest as floats", function()
      assert.equal("integer", math.type(json.decode("30")))
      assert.equal("integer", math.type(json.decode("-0")))
      assert.equal("float", math.type(json.decode("30.0")))
      assert.equal("float", math.type(json.decode("3e1")))
      assert.equal(math.maxinteger, json.decode("9223372036854775807"))
      assert.equal(math.mininteger, json.decode("-9223372036854775808"))
      assert.equal(9007199254740993, json.decode("9007199254740993"))
    end)

    it("boxes an integer beyond 64 bits, still an integer", function()
      local big = json.decode("9223372036854775808")
      assert.equal(json.bigint_mt, getmetatable(big))
      assert.is_true(json.is_integer(big))
      assert.equal("9223372036854775808", tostring(big))
      assert.equal("[-99999999999999999999]",
        json.encode(json.decode("[-99999999999999999999]")))
      assert.is_false(json.is_integer(1.0))
    end)

    it("decodes escapes, surrogate pairs and raw UTF-8", function()
      assert.equal('"\\/\b\f\n\r\t', json.decode('"\\"\\\\\\/\\b\\f\\n\\r\\t"'))
      assert.equal("é😀", json.decode('"\\u00e9\\ud83d\\ude00"'))
      assert.equal("é😀", json.decode('"é😀"'))
      assert.equal("\0", json.decode('"\\u0000"'))
    end)

    local BAD = {
      {"", "at byte 1: unexpected end of input"},
      {"   ", "at byte 4: unexpected end of input"},
      {"[1,]", "at byte 4: trailing comma"},
      {'{"a":1,}', "at byte 8: trailing comma"},
      {"01", "at byte 2: leading zero"},
      {"-01", "at byte 3: leading zero"},
      {"1.", "at byte 2: digit expected after '.'"},
      {".5", "at byte 1: unexpected character"},
      {"1e", "at byte 2: digit expected in exponent"},
      {"+1", "at byte 1: unexpected character"},
      {'"a\tb"', "at byte 3: control character in string"},
      {'"\\x"', "at byte 2: bad escape"},
      {'"\\u12"', "at byte 4: bad \\u escape"},
      {'"\\ud800"', "at byte 2: lone surrogate"},
      {'"\\udc00x"', "at byte 2: lone surrogate"},
      {'"\\ud800\\u0041"', "at byte 2: lone surrogate"},
      {'"\xff"', "at byte 2: invalid UTF-8"},
      {'"\xc0\xaf"', "at byte 2: invalid UTF-8"},
      {'"\xed\xa0\x80"', "at byte 2: invalid UTF-8"},
      {'{"a":1} x', "at byte 9: trailing garbage"},
      {"[1 2]", "at byte 4: ',' or ']' expected"},
      {"{1:2}", "at byte 2: string key expected"},
      {'{"a" 1}', "at byte 6: ':' expected"},
      {"tru", "at byte 1: unexpected character"},
      {"NaN", "at byte 1: unexpected character"},
      {'"abc', "at byte 2: unterminated string"},
    }
    for _, case in ipairs(BAD) do
      it("refuses " .. string.format("%q", case[1]), function()
        local v, err = json.decode(case[1])
        assert.is_nil(v)
        assert.equal(case[2], err)
      end)
    end

    it("limits nesting depth with an error, not a crash", function()
      local ok = json.decode(string.rep("[", 512) .. string.rep("]", 512))
      assert.equal(json.array_mt, getmetatable(ok))
      local v, err = json.decode(string.rep("[", 513) .. string.rep("]", 513))
      assert.is_nil(v)
      assert.equal("at byte 513: nesting too deep", err)
      v, err = json.decode(string.rep('{"a":', 100000))
      assert.is_nil(v)
      assert.matches("nesting too deep", err)
    end)

    it("refuses a value that is not a string", function()
      assert.is_nil(json.decode(nil))
    end)
  end)

  describe("encode", function()
    it("writes compact JSON with sorted keys for plain tables", function()
      assert.equal('{"a":[1,2,3],"b":{"c":true},"z":"y"}',
        json.encode{z = "y", a = {1, 2, 3}, b = {c = true}})
    end)

    it("keeps the order of json.object", function()
      assert.equal('{"id":30,"first_name":"John","url":null,"p":[]}',
        json.encode(json.object{"id", 30, "first_name", "John",
          "url", json.null, "p", json.array{}}))
    end)

    it("puts listed keys first when given a key order", function()
      assert.equal('{"result":"ok","ports":1,"a":2,"b":3}',
        json.encode({b = 3, a = 2, ports = 1, result = "ok"},
          {"result", "ports"}))
    end)

    it("writes empty arrays from array_mt and empty plain tables as {}",
      function()
        assert.equal("[]", json.encode(setmetatable({}, json.array_mt)))
        assert.equal("{}", json.encode({}))
        assert.equal("{}", json.encode(json.decode("{}")))
      end)

    it("writes integers as integers and floats that round-trip", function()
      assert.equal("[30,-9223372036854775808,2.0,0.1,1e+300,-0.5]",
        json.encode(json.array{30, math.mininteger, 2.0, 0.1, 1e300, -0.5}))
      local third = json.decode(json.encode(1 / 3))
      assert.equal(1 / 3, third)
      assert.equal("float", math.type(json.decode(json.encode(2.0))))
    end)

    it("refuses what JSON cannot say", function()
      assert.is_nil((json.encode(math.huge)))
      assert.is_nil((json.encode(0 / 0)))
      assert.is_nil((json.encode(print)))
      assert.is_nil((json.encode({[1.5] = true})))
      local v, err = json.encode("\xff")
      assert.is_nil(v)
      assert.equal("invalid UTF-8 in a string", err)
    end)

    it("escapes quotes, backslashes and control characters only", function()
      assert.equal('"a\\"b\\\\c/d\\u000a\\u0001\\u001fé\127"',
        json.encode('a"b\\c/d\n\1\31é\127'))
    end)

    it("round-trips a document byte for byte", function()
      local text = '{"data":[{"period":{"endTime":"2020-11-19T11:00:00Z",'
        .. '"startTime":"2020-11-19T10:00:00Z"},"x":[1.5,-2,null,true]}],'
        .. '"meta":{}}'
      assert.equal(text, json.encode(json.decode(text)))
    end)
  end)
end)

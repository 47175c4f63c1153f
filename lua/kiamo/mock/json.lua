-- kiamo.mock.json: strict RFC 8259 JSON for the emulator.
-- Objects decode to tables with `object_mt`, arrays to sequences with
-- `array_mt`, null to `null`; integer literals stay Lua integers, and one
-- beyond 64 bits becomes a `bigint_mt` box that keeps its text.

local json = {}

local MAX_DEPTH = 512

local ESCAPES = {
  ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f",
  n = "\n", r = "\r", t = "\t",
}

json.object_mt = {__name = "kiamo.mock.json.object"}
json.array_mt = {__name = "kiamo.mock.json.array"}
json.ordered_mt = {__name = "kiamo.mock.json.ordered"}
json.bigint_mt = {__name = "kiamo.mock.json.bigint"}
json.bigint_mt.__tostring = function(box) return box.text end
json.null = setmetatable({}, {
  __name = "kiamo.mock.json.null",
  __tostring = function() return "null" end,
})

local object_mt, array_mt = json.object_mt, json.array_mt
local ordered_mt, bigint_mt = json.ordered_mt, json.bigint_mt
local null = json.null

--- An object whose keys keep the order given: json.object{"k1", v1, ...}.
function json.object(pairs_list)
  return setmetatable(pairs_list, ordered_mt)
end

--- An array (also for an empty one): json.array{...}.
function json.array(list)
  return setmetatable(list or {}, array_mt)
end

--- True for a JSON integer: a Lua integer or a boxed one beyond 64 bits.
function json.is_integer(v)
  return math.type(v) == "integer" or getmetatable(v) == bigint_mt
end

function json.is_object(v)
  return type(v) == "table" and getmetatable(v) == object_mt
end

function json.is_array(v)
  return type(v) == "table" and getmetatable(v) == array_mt
end

-- Decoding ---------------------------------------------------------------

local byte, find, sub, char = string.byte, string.find, string.sub,
  string.char
local utf8char = utf8.char

local decode_value

local function fail(pos, what)
  error({json_error = string.format("at byte %d: %s", pos, what)}, 0)
end

local function skip_space(s, pos)
  local _, last = find(s, "^[ \t\r\n]*", pos)
  return last + 1
end

local function decode_hex4(s, pos)
  local hex = sub(s, pos, pos + 3)
  if not find(hex, "^%x%x%x%x$") then
    fail(pos, "bad \\u escape")
  end
  return tonumber(hex, 16)
end

local function decode_string(s, pos)
  -- pos is just after the opening quote
  local parts, n = {}, 0
  while true do
    local stop = find(s, '["\\\0-\31]', pos)
    if not stop then fail(pos, "unterminated string") end
    if stop > pos then
      n = n + 1
      parts[n] = sub(s, pos, stop - 1)
    end
    local c = byte(s, stop)
    if c == 34 then
      return table.concat(parts), stop + 1
    elseif c < 32 then
      fail(stop, "control character in string")
    end
    local e = sub(s, stop + 1, stop + 1)
    if e == "u" then
      local code = decode_hex4(s, stop + 2)
      pos = stop + 6
      if code >= 0xD800 and code <= 0xDBFF then
        if sub(s, pos, pos + 1) ~= "\\u" then
          fail(stop, "lone surrogate")
        end
        local low = decode_hex4(s, pos + 2)
        if low < 0xDC00 or low > 0xDFFF then
          fail(stop, "lone surrogate")
        end
        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        pos = pos + 6
      elseif code >= 0xDC00 and code <= 0xDFFF then
        fail(stop, "lone surrogate")
      end
      n = n + 1
      parts[n] = utf8char(code)
    else
      local value = ESCAPES[e]
      if not value then fail(stop, "bad escape") end
      n = n + 1
      parts[n] = value
      pos = stop + 2
    end
  end
end

local function decode_number(s, pos)
  local _, last, int = find(s, "^(-?0)", pos)
  if not last then
    _, last, int = find(s, "^(-?[1-9]%d*)", pos)
    if not last then fail(pos, "unexpected character") end
  end
  local frac_last = select(2, find(s, "^%.%d+", last + 1))
  if not frac_last and sub(s, last + 1, last + 1) == "." then
    fail(last + 1, "digit expected after '.'")
  end
  local stop = frac_last or last
  local exp_last = select(2, find(s, "^[eE][+-]?%d+", stop + 1))
  if not exp_last and find(s, "^[eE]", stop + 1) then
    fail(stop + 1, "digit expected in exponent")
  end
  stop = exp_last or stop
  if find(s, "^[%d]", stop + 1) then
    fail(stop + 1, "leading zero")
  end
  if stop == last then
    local value = tonumber(int)
    if math.type(value) ~= "integer" then
      return setmetatable({text = int}, bigint_mt), stop + 1
    end
    return value, stop + 1
  end
  return tonumber(sub(s, pos, stop)) + 0.0, stop + 1
end

local function decode_array(s, pos, depth)
  local list, n = setmetatable({}, array_mt), 0
  pos = skip_space(s, pos)
  if byte(s, pos) == 93 then return list, pos + 1 end
  while true do
    local value
    value, pos = decode_value(s, pos, depth)
    n = n + 1
    list[n] = value
    pos = skip_space(s, pos)
    local c = byte(s, pos)
    if c == 93 then return list, pos + 1 end
    if c ~= 44 then fail(pos, "',' or ']' expected") end
    pos = skip_space(s, pos + 1)
    if byte(s, pos) == 93 then fail(pos, "trailing comma") end
  end
end

local function decode_object(s, pos, depth)
  local object = setmetatable({}, object_mt)
  pos = skip_space(s, pos)
  if byte(s, pos) == 125 then return object, pos + 1 end
  while true do
    if byte(s, pos) ~= 34 then fail(pos, "string key expected") end
    local key, value
    key, pos = decode_string(s, pos + 1)
    pos = skip_space(s, pos)
    if byte(s, pos) ~= 58 then fail(pos, "':' expected") end
    value, pos = decode_value(s, skip_space(s, pos + 1), depth)
    object[key] = value
    pos = skip_space(s, pos)
    local c = byte(s, pos)
    if c == 125 then return object, pos + 1 end
    if c ~= 44 then fail(pos, "',' or '}' expected") end
    pos = skip_space(s, pos + 1)
    if byte(s, pos) == 125 then fail(pos, "trailing comma") end
  end
end

function decode_value(s, pos, depth)
  local c = byte(s, pos)
  if c == 34 then
    return decode_string(s, pos + 1)
  elseif c == 123 or c == 91 then
    if depth >= MAX_DEPTH then fail(pos, "nesting too deep") end
    if c == 123 then return decode_object(s, pos + 1, depth + 1) end
    return decode_array(s, pos + 1, depth + 1)
  elseif c == 116 then
    if sub(s, pos, pos + 3) == "true" then return true, pos + 4 end
  elseif c == 102 then
    if sub(s, pos, pos + 4) == "false" then return false, pos + 5 end
  elseif c == 110 then
    if sub(s, pos, pos + 3) == "null" then return null, pos + 4 end
  elseif c == nil then
    fail(pos, "unexpected end of input")
  else
    return decode_number(s, pos)
  end
  fail(pos, "unexpected character")
end

--- Decodes a JSON text; returns the value, or nil and "at byte N: ...".
function json.decode(s)
  if type(s) ~= "string" then
    return nil, "at byte 1: string expected"
  end
  local ok, bad = utf8.len(s)
  if not ok then return nil, string.format("at byte %d: invalid UTF-8", bad) end
  local done, value = pcall(function()
    local v, p = decode_value(s, skip_space(s, 1), 0)
    p = skip_space(s, p)
    if p <= #s then fail(p, "trailing garbage") end
    return v
  end)
  if done then return value, nil end
  if type(value) == "table" and value.json_error then
    return nil, value.json_error
  end
  error(value, 0)
end

-- Encoding ---------------------------------------------------------------

local STRING_ESCAPES = {['"'] = '\\"', ["\\"] = "\\\\"}
for code = 0, 31 do
  STRING_ESCAPES[char(code)] = string.format("\\u%04x", code)
end

local function encode_string(s)
  if not utf8.len(s) then
    error({json_error = "invalid UTF-8 in a string"}, 0)
  end
  return '"' .. s:gsub('[%c"\\]', STRING_ESCAPES) .. '"'
end
json.encode_string = function(s)
  local ok, out = pcall(encode_string, s)
  if ok then return out end
  return nil, out.json_error
end

local function encode_float(x)
  if x ~= x or x == math.huge or x == -math.huge then
    error({json_error = "cannot encode a non-finite number"}, 0)
  end
  if x == math.floor(x) and math.abs(x) < 1e16 then
    return string.format("%.1f", x)
  end
  for digits = 15, 17 do
    local text = string.format("%." .. digits .. "g", x)
    if tonumber(text) == x then return text end
  end
  return string.format("%.17g", x)
end

local encode_value

local function is_sequence(t)
  local n = #t
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n and n > 0
end

local function encode_table(t, out, depth)
  if depth > MAX_DEPTH then
    error({json_error = "nesting too deep"}, 0)
  end
  local mt = getmetatable(t)
  if mt == bigint_mt then
    out[#out + 1] = t.text
  elseif mt == ordered_mt then
    out[#out + 1] = "{"
    for i = 1, #t, 2 do
      if i > 1 then out[#out + 1] = "," end
      out[#out + 1] = encode_string(t[i])
      out[#out + 1] = ":"
      encode_value(t[i + 1], out, depth + 1)
    end
    out[#out + 1] = "}"
  elseif mt == array_mt or (mt == nil and is_sequence(t)) then
    out[#out + 1] = "["
    for i = 1, #t do
      if i > 1 then out[#out + 1] = "," end
      encode_value(t[i], out, depth + 1)
    end
    out[#out + 1] = "]"
  else
    local keys = {}
    for key in pairs(t) do
      if type(key) ~= "string" then
        error({json_error = "object key is not a string"}, 0)
      end
      keys[#keys + 1] = key
    end
    local rank = out.key_rank
    if rank then
      table.sort(keys, function(a, b)
        local ra, rb = rank[a], rank[b]
        if ra and rb then return ra < rb end
        if ra or rb then return ra ~= nil end
        return a < b
      end)
    else
      table.sort(keys)
    end
    out[#out + 1] = "{"
    for i, key in ipairs(keys) do
      if i > 1 then out[#out + 1] = "," end
      out[#out + 1] = encode_string(key)
      out[#out + 1] = ":"
      encode_value(t[key], out, depth + 1)
    end
    out[#out + 1] = "}"
  end
end

function encode_value(v, out, depth)
  local kind = type(v)
  if kind == "string" then
    out[#out + 1] = encode_string(v)
  elseif kind == "number" then
    if math.type(v) == "integer" then
      out[#out + 1] = string.format("%d", v)
    else
      out[#out + 1] = encode_float(v)
    end
  elseif kind == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif v == null then
    out[#out + 1] = "null"
  elseif kind == "table" then
    encode_table(v, out, depth)
  else
    error({json_error = "cannot encode a " .. kind}, 0)
  end
end

--- Encodes a value as compact JSON; returns the text, or nil and an error.
-- Keys of unordered objects are sorted; `key_order`, a list of key names,
-- puts those keys first, in its order.
function json.encode(v, key_order)
  local out = {}
  if key_order then
    out.key_rank = {}
    for i, key in ipairs(key_order) do out.key_rank[key] = i end
  end
  local ok, err = pcall(encode_value, v, out, 0)
  if ok then return table.concat(out) end
  if type(err) == "table" and err.json_error then
    return nil, err.json_error
  end
  error(err, 0)
end

return json

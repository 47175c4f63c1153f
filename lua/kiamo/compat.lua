-- kiamo.compat: the few functions of Lua 5.3+ that the Lua layer uses,
-- for LuaJIT (the Lua 5.1 API) as well. On 5.3+ they are the standard
-- ones, unchanged.
--
-- LuaJIT has no integer type: there an integral number up to 2^53 in
-- magnitude counts as an integer, and larger ids are strings of digits
-- (see core.integer).

local compat = {}

local EXACT = 2 ^ 53

compat.pack = table.pack or function(...)
  return {n = select("#", ...), ...}
end

compat.unpack = table.unpack or rawget(_G, "unpack")

-- "integer", "float" or nil, as math.type.
compat.math_type = math.type or function(v)
  if type(v) ~= "number" then return nil end
  if v == math.floor(v) and v >= -EXACT and v <= EXACT then
    return "integer"
  end
  return "float"
end

-- v as an integer, or nil, as math.tointeger (which on 5.4 also takes
-- a string that reads as one).
compat.tointeger = math.tointeger or function(v)
  v = tonumber(v)
  if v and v == math.floor(v) and v >= -EXACT and v <= EXACT then
    return v
  end
  return nil
end

-- a // b for integers (exact while |a| < 2^53).
function compat.idiv(a, b)
  return math.floor(a / b)
end

return compat

-- kiamo.error: the error object every failed request returns.
-- Fields: kind ("http", "timeout", "connect", "tls", "transport",
-- "decode"), status, code, info, message, method, url, body. It never
-- holds the token: the url is the request's, which carries none.

local Error = {}
Error.__name = "kiamo.Error"
Error.__index = Error

local KINDS = {
  http = true, timeout = true, connect = true, tls = true,
  transport = true, decode = true,
}

-- The path of a url, without scheme, authority or query.
local function path_of(url)
  if type(url) ~= "string" then return nil end
  local path = url:match("^%a[%w+.-]*://[^/?#]*([^?#]*)") or url
  if path == "" then path = "/" end
  return path
end

-- Error.new{kind=, status=, code=, info=, message=, method=, url=, body=}
function Error.new(fields)
  if type(fields) ~= "table" or not KINDS[fields.kind] then
    error("kiamo.Error.new: kind must be one of http, timeout, connect, "
      .. "tls, transport, decode", 2)
  end
  local err = {}
  for k, v in pairs(fields) do err[k] = v end
  return setmetatable(err, Error)
end

-- True if v is a kiamo.Error.
function Error.is(v)
  return getmetatable(v) == Error
end

-- One line: "kiamo: 400 ERR_1010 info (POST /api/v3/...)" for HTTP
-- errors, "kiamo: timeout: message (GET /api/v3/...)" for the others.
function Error.__tostring(err)
  local parts = {}
  if err.kind == "http" then
    parts[#parts + 1] = tostring(err.status)
    if err.code then parts[#parts + 1] = tostring(err.code) end
    if err.info then parts[#parts + 1] = tostring(err.info) end
  else
    local head = err.kind .. ":"
    if err.kind == "decode" and err.status then
      head = head .. " " .. tostring(err.status)
    end
    parts[#parts + 1] = head
    if err.message then parts[#parts + 1] = tostring(err.message) end
  end
  local line = "kiamo: " .. table.concat(parts, " ")
  local path = path_of(err.url)
  if err.method and path then
    line = string.format("%s (%s %s)", line, err.method, path)
  end
  -- one line, and no terminal escapes from what a server wrote
  return (line:gsub("%c+", " "))
end

return Error

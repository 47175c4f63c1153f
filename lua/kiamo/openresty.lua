-- kiamo.openresty: a transport for sessions used inside nginx request
-- handlers (content_by_lua*, access_by_lua*, rewrite_by_lua*).
--
-- libcurl would block the nginx worker for the whole of each call, and
-- every other request of that worker with it. This transport hands each
-- request to nginx instead: ngx.location.capture runs a subrequest to an
-- internal location that proxies to the Kiamo server, and the handler's
-- coroutine sleeps until the answer is in while the worker serves
-- others.
--
--   local kiamo = require "kiamo"
--   local openresty = require "kiamo.openresty"
--   local s = kiamo.session{url = "http://kiamo.example", token = ...,
--                           transport = openresty.transport()}
--
-- The server block needs this internal location (its name is the
-- transport's `location` option, "/_kiamo" by default) and an upstream
-- named kiamo that points at the Kiamo server; the session's url only
-- gives the path prefix:
--
--   location = /_kiamo {
--     internal;
--     proxy_pass http://kiamo$kiamo_uri;
--     proxy_pass_request_headers off;
--     proxy_set_header Kiamo-Api-Token $kiamo_token;
--     proxy_set_header Content-Type $kiamo_content_type;
--     proxy_set_header Accept $kiamo_accept;
--     proxy_set_header User-Agent $kiamo_user_agent;
--     proxy_http_version 1.1;
--     proxy_set_header Connection "";
--   }
--   # declares the variables above (never requested)
--   location = /_kiamo_variables {
--     internal;
--     set $kiamo_uri ""; set $kiamo_token "";
--     set $kiamo_content_type ""; set $kiamo_accept "";
--     set $kiamo_user_agent "";
--   }
--
-- nginx's own failures (no connection, a timeout) come back as a
-- truncated 502 or 504, which the transport reports as the kinds
-- "connect" and "timeout"; a 502 or 504 that the Kiamo server itself
-- sent is a complete answer and passes through as one. Timeouts are
-- nginx's (proxy_connect_timeout, proxy_read_timeout), not the
-- session's. The token goes to the
-- subrequest in a variable, never in a URL, and subrequests are not
-- logged unless log_subrequest is on.
--
-- Outside request handlers (init_worker_by_lua*, ngx.timer.at, the
-- resty command) ngx.location.capture is not available: use a session
-- without this transport there (libcurl, which blocks only that timer).

-- luacheck: read globals ngx

local openresty = {}

openresty._VERSION = "kiamo.openresty 0.1.0"

local DEFAULT_LOCATION = "/_kiamo"

-- The request headers the internal location forwards, each through one
-- nginx variable.
local HEADER_VARIABLES = {
  ["kiamo-api-token"] = "kiamo_token",
  ["content-type"] = "kiamo_content_type",
  ["accept"] = "kiamo_accept",
  ["user-agent"] = "kiamo_user_agent",
}

-- The kind of failure of a truncated answer, by its status.
local FAILURES = {[502] = "connect", [504] = "timeout"}

-- The subrequest's options for one request from req:info(), or nil and
-- a message.
local function subrequest_options(info)
  local method = ngx["HTTP_" .. info.method]
  if type(method) ~= "number" then
    return nil, "method " .. info.method .. " cannot go through "
      .. "ngx.location.capture"
  end
  local uri = info.url:match("^[hH][tT][tT][pP][sS]?://[^/]*(/.*)$")
  if not uri then return nil, "url has no path: " .. info.url end
  local vars = {kiamo_uri = uri, kiamo_token = "", kiamo_content_type = "",
                kiamo_accept = "", kiamo_user_agent = ""}
  for name, value in pairs(info.headers or {}) do
    local variable = HEADER_VARIABLES[name:lower()]
    if not variable then
      return nil, "header " .. name .. " cannot go through the openresty "
        .. "transport"
    end
    vars[variable] = value
  end
  -- the body goes with any method, GET and DELETE included
  return {method = method, body = info.body or "", vars = vars}
end

-- openresty.transport{location = "/_kiamo"} -> a function for the
-- session option `transport`: receives req:info() and returns status,
-- headers, body, or nil, kind ("connect", "timeout", "transport") and a
-- message.
function openresty.transport(options)
  if options ~= nil and type(options) ~= "table" then
    error("kiamo.openresty: transport: options must be a table", 2)
  end
  local location = options and options.location or DEFAULT_LOCATION
  if type(location) ~= "string" or location:sub(1, 1) ~= "/" then
    error("kiamo.openresty: transport: location must be a path starting "
      .. "with \"/\"", 2)
  end
  return function(info)
    local capture_options, message = subrequest_options(info)
    if not capture_options then return nil, "transport", message end
    local ok, res = pcall(ngx.location.capture, location, capture_options)
    if not ok then return nil, "transport", tostring(res) end
    if res.truncated then
      local kind = FAILURES[res.status] or "transport"
      return nil, kind, string.format("nginx got no complete answer from "
        .. "the Kiamo server (status %d)", res.status)
    end
    local headers = {}
    for name, value in pairs(res.header) do
      if type(value) == "table" then value = table.concat(value, ", ") end
      headers[name] = value
    end
    return res.status, headers, res.body
  end
end

return openresty

-- What the core puts on the wire, as a loopback echo server sees it.

local core = require "kiamo.core"
local cjson = require "cjson"
local loopback = require "support.loopback"

local TOKEN = "0123456789abcdef0123456789abcdef01234567"

describe("kiamo.core sessions on the wire", function()
  local server, s
  setup(function()
    server = loopback.start("echo")
    s = core.session{url = server.url .. "/", token = TOKEN}
  end)
  teardown(function()
    s:close()
    server:stop()
  end)

  local function echo(method, path, query, body, headers)
    local req = s:prepare(method, path, query, body, headers)
    assert(s:perform(req))
    assert.equal(200, req:status())
    return cjson.decode(req:body()), req
  end

  it("sorts and percent-encodes the query", function()
    local seen = echo("GET", "/x", {b = "1 2", a = 3, ["c/d"] = "\u{e9}&"})
    assert.equal("a=3&b=1%202&c%2Fd=%C3%A9%26", seen.query)
  end)

  it("sends the token, Accept and the JSON type, and no Expect", function()
    local seen = echo("POST", "/activities/planning", nil,
                      {activities = {}})
    assert.equal("/api/v3/activities/planning", seen.path)
    assert.equal(TOKEN, seen.headers["kiamo-api-token"])
    assert.equal("application/json", seen.headers["accept"])
    assert.equal("application/json", seen.content_type)
    assert.is_nil(seen.headers["expect"])
    assert.equal('{"activities":[]}', seen.body)
  end)

  it("keeps GET and DELETE with a body under their own method", function()
    for _, method in ipairs{"GET", "DELETE", "PATCH", "PUT"} do
      local seen = echo(method, "/p", nil,
        {n = core.integer("9007199254740993")})
      assert.equal(method, seen.method)
      assert.equal('{"n":9007199254740993}', seen.body)
    end
  end)

  it("sends its User-Agent and asks for gzip on every request", function()
    local seen = echo("GET", "/ua")
    assert.matches("^lua%-kiamo/", seen.headers["user-agent"])
    assert.equal("gzip", seen.headers["accept-encoding"])
  end)

  it("sends each method right on one reused handle in turn", function()
    local plan = {
      {"GET", nil}, {"POST", {a = 1}}, {"DELETE", nil}, {"GET", {b = 2}},
      {"PATCH", {c = 3}}, {"GET", nil}, {"DELETE", {d = 4}},
    }
    for _, step in ipairs(plan) do
      local seen = echo(step[1], "/seq", nil, step[2])
      assert.equal(step[1], seen.method)
      assert.equal(step[2] and core.encode(step[2]) or "", seen.body)
    end
    local head = s:prepare("HEAD", "/seq")
    assert(s:perform(head))
    assert.equal(200, head:status())
    assert.equal("", head:body())
    local seen = echo("GET", "/after-head")
    assert.equal("GET", seen.method)
  end)

  it("lets the caller's headers replace its defaults", function()
    local seen = echo("GET", "/h", nil, nil,
                      {Accept = "text/plain", ["X-Trace"] = "t1"})
    assert.equal("text/plain", seen.headers["accept"])
    assert.equal("t1", seen.headers["x-trace"])
  end)

  it("reads headers whatever their case, repeated ones joined", function()
    local fixed = loopback.start("fixed", "HTTP/1.1 200 OK\r\n" ..
      "content-type: application/json\r\nX-Twice: a\r\nx-twice: b\r\n" ..
      "Content-Length: 2\r\n\r\n{}")
    finally(function() fixed:stop() end)
    local f = core.session{url = fixed.url, token = TOKEN}
    local req = f:prepare("GET", "/x")
    assert(f:perform(req))
    assert.equal("application/json", req:header("Content-Type"))
    assert.equal("a, b", req:header("X-TWICE"))
    assert.is_nil(req:header("x-missing"))
    f:close()
  end)

  it("shows neither the token in tostring nor a way to read it", function()
    assert.is_nil(tostring(s):find(TOKEN, 1, true))
    assert.equal(server.url .. "/api/v3", s:url())
    assert.is_nil(getmetatable(s).__index.token)
  end)
end)

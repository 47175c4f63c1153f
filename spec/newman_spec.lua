-- The vendor's Postman collection, run by newman against kiamo-mock.
--
-- newman is installed with npm into build/npm (ignored by git) on first
-- use; the collection is read from shared/ beside the repository and
-- never changed: spec/support/newman_run.js adds the token header in
-- memory to the requests that lack it.

local cjson = require "cjson"
local mock_server = require "support.mock_server"
local shell = require "support.shell"

local ROOT = mock_server.ROOT
local NEWMAN = {
  package = "newman@6.2.2",
  prefix = ROOT .. "/build/npm",
  runner = ROOT .. "/spec/support/newman_run.js",
  environment = ROOT .. "/spec/support/newman_env.json",
  collection = ROOT .. "/../shared/kiamo-api-v3.postman_collection.json",
}

-- What API.md predicts for each request of the collection, in its order,
-- against the default fixture (agentId 30, app kiwi in newman_env.json).
local EXPECTED = {
  {name = "Create Activity Planning", status = 200},
  {name = "Get Activity Planning", status = 400},  -- its body lacks a comma
  {name = "Delete Activity Planning", status = 204},
  {name = "Get Host", status = 200},  -- sent without a token by the vendor
  {name = "Read Agent", status = 200},
  {name = "Create Agent", status = 201},
  {name = "Change Agent", status = 200},
  {name = "Delete Agent", status = 201},
}


local quote = shell.quote


local function exists(path)
  local file = io.open(path)
  if file then file:close() end
  return file ~= nil
end


local function have_command(name)
  return os.execute("command -v " .. name .. " >/dev/null 2>&1") == true
end


-- Installs newman into NEWMAN.prefix unless it is there.
local function install_newman()
  if exists(NEWMAN.prefix .. "/node_modules/newman/package.json") then
    return
  end
  local ok = os.execute(string.format(
    "npm install --prefix %s --no-audit --no-fund --loglevel=error %s " ..
    ">&2", quote(NEWMAN.prefix), NEWMAN.package))
  assert(ok, "npm could not install " .. NEWMAN.package)
end


local function run_collection(url)
  local pipe = assert(io.popen(string.format("node %s %s %s %s %s",
    quote(NEWMAN.runner), quote(NEWMAN.prefix), quote(NEWMAN.collection),
    quote(NEWMAN.environment), quote(url))))
  local output = pipe:read("a")
  local ok = pipe:close()
  assert(ok, "newman did not run the collection:\n" .. output)
  return cjson.decode(output)
end


describe("kiamo-mock under the vendor's collection", function()
  it("answers each of its eight requests with the status API.md predicts",
     function()
    if not (have_command("npm") and have_command("node")) then
      pending("npm and node are not installed: newman cannot run")
      return
    end
    assert(exists(NEWMAN.collection),
           "the vendor's collection is not at " .. NEWMAN.collection)
    install_newman()
    local server = assert(mock_server.start())
    local ok, results = pcall(run_collection, server.url)
    server:stop()
    assert(ok, results)
    local got = {}
    for i, result in ipairs(results) do
      assert.equal(cjson.null, result.error, result.name)
      got[i] = {name = result.name, status = result.status}
    end
    assert.same(EXPECTED, got)
    local planning = cjson.decode(results[2].body)
    assert.equal("ERR_1000", planning.code)
    assert.equal("The json supplied is invalid", planning.info)
  end)
end)

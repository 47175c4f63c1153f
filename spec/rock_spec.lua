-- The rock installs offline from a copy of the checkout, and what it
-- installs works without the checkout's paths.

local function run(command)
  local pipe = assert(io.popen(command .. " 2>&1"))
  local output = pipe:read("a")
  local ok, _, code = pipe:close()
  return ok, output, code
end

describe("kiamo rockspec", function()
  it("installs with luarocks make --deps-mode=none and loads", function()
    local _, tmp = run("mktemp -d")
    tmp = tmp:gsub("%s+$", "")
    finally(function() os.execute("rm -rf '" .. tmp .. "'") end)
    local ok, output = run(string.format(
      "cp -r kiamo-*.rockspec src lua bin examples LICENSE '%s' && " ..
      "cd '%s' && luarocks --lua-version 5.4 make --deps-mode=none " ..
      "--tree '%s/tree' kiamo-*.rockspec", tmp, tmp, tmp))
    assert.is_true(ok, output)
    ok, output = run(string.format(
      "cd / && eval \"$(luarocks --lua-version 5.4 --tree '%s/tree' " ..
      "path)\" && lua5.4 -e 'local k = require \"kiamo\" " ..
      "print(k._VERSION, package.searchpath(\"kiamo.core\", " ..
      "package.cpath))' && timeout 5 '%s/tree/bin/kiamo-mock' --port 0 " ..
      "--quiet | head -n 1", tmp, tmp))
    assert.is_true(ok, output)
    assert.matches("kiamo 0%.1%.0\t" .. tmp:gsub("%p", "%%%0") ..
                   "/tree/lib/lua/5%.4/kiamo/core%.so", output)
    assert.matches("listening on http://127%.0%.0%.1:%d+", output)
  end)
end)

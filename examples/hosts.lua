-- hosts: print where each Kiamo application is served, as a small table.
--
--   lua5.4 examples/hosts.lua [APP...]
--
-- Without arguments it asks for kiwi, supervision, supervision-api and
-- agent-api. The server and token come from KIAMO_URL and KIAMO_API_TOKEN.

local kiamo = require "kiamo"

local APPLICATIONS = {"kiwi", "supervision", "supervision-api", "agent-api"}
local COLUMNS = {"application", "frontal server", "http", "https",
                 "session servers"}


local function text(value)
  if value == nil or value == kiamo.null then
    return "-"
  end
  return tostring(value)
end


local function row_of(app, answer)
  local frontal = answer.frontal_server or {}
  local ports = answer.ports or {}
  local servers = {}
  for i, server in ipairs(answer.session_servers or {}) do
    servers[i] = text(server.host) .. ":" .. text(server.port)
  end
  return {app, text(frontal.host), text(ports.http), text(ports.https),
          #servers > 0 and table.concat(servers, " ") or "-"}
end


local function print_table(rows)
  local widths = {}
  for _, row in ipairs(rows) do
    for i, cell in ipairs(row) do
      widths[i] = math.max(widths[i] or 0, #cell)
    end
  end
  for _, row in ipairs(rows) do
    local cells = {}
    for i, cell in ipairs(row) do
      cells[i] = i < #row and cell .. string.rep(" ", widths[i] - #cell)
        or cell
    end
    print(table.concat(cells, "  "))
  end
end


local function main(args)
  if not os.getenv("KIAMO_URL") or not os.getenv("KIAMO_API_TOKEN") then
    io.stderr:write("hosts: set KIAMO_URL and KIAMO_API_TOKEN\n")
    return 2
  end
  local apps = #args > 0 and args or APPLICATIONS
  local ok, session = pcall(kiamo.session, {})
  if not ok then
    io.stderr:write("hosts: ", tostring(session), "\n")
    return 2
  end
  local rows, failed = {COLUMNS}, 0
  for _, app in ipairs(apps) do
    local answer, err = session:host(app)
    if answer then
      rows[#rows + 1] = row_of(app, answer)
    else
      failed = failed + 1
      io.stderr:write(app, ": ", tostring(err), "\n")
    end
  end
  session:close()
  print_table(rows)
  return failed == 0 and 0 or 1
end


os.exit(main(arg))

-- planning_site: the handlers of the example OpenResty site (see
-- nginx.conf beside this file). One team's planning for today (UTC), as
-- an HTML page and as JSON, and a form for a supervisor to remove an
-- entry. Every Kiamo call goes through kiamo.openresty's transport, so a
-- slow Kiamo server delays only the requests that wait for it.
--
-- The Kiamo session is made once per worker from the environment:
-- KIAMO_URL (default http://127.0.0.1:8080, the emulator's) and
-- KIAMO_API_TOKEN, which nginx.conf passes through with `env`.

-- luacheck: globals ngx

local kiamo = require "kiamo"
local openresty = require "kiamo.openresty"
local encode = require("kiamo.core").encode

local site = {}

local DAY = 86400

local session  -- this worker's session, made at first use

local function get_session()
  if session == nil then
    session = kiamo.session{
      url = os.getenv("KIAMO_URL") or "http://127.0.0.1:8080",
      token = os.getenv("KIAMO_API_TOKEN"),
      transport = openresty.transport{location = "/_kiamo"},
    }
  end
  return session
end

local function escape_html(s)
  return (tostring(s):gsub("[&<>\"']", {
    ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;",
    ["'"] = "&#39;"}))
end

-- Today's period in UTC, as start and end epoch seconds.
local function today()
  local start = ngx.time() - ngx.time() % DAY
  return start, start + DAY
end

local function finish(status, content_type, body)
  ngx.status = status
  ngx.header["Content-Type"] = content_type
  ngx.header["Cache-Control"] = "no-store"
  ngx.print(body)
  return ngx.exit(status)
end

local function fail_json(status, message)
  return finish(status, "application/json", encode{error = message})
end

-- The team id of the query (?team=N), or nil.
local function team_of_query()
  local team = ngx.var.arg_team
  if team and team:match("^[1-9]%d*$") then return team end
  return nil
end

-- The entries of the team's planning today, sorted by start, agent and
-- activity; each is {agent =, activity =, startTime =, endTime =}. Or
-- nil, err.
local function planning_of(team)
  local s = get_session()
  local start, stop = today()
  local entries = {}
  local ok, err = pcall(function()
    for entry in s:each_planning{periods = {{start, stop}},
                                 activities = {}, team = team} do
      entries[#entries + 1] = {
        agent = entry.agent, activity = entry.activity,
        startTime = entry.period.startTime,
        endTime = entry.period.endTime,
      }
    end
  end)
  if not ok then return nil, err end
  table.sort(entries, function(a, b)
    if a.startTime ~= b.startTime then return a.startTime < b.startTime end
    if a.agent ~= b.agent then return a.agent < b.agent end
    return a.activity < b.activity
  end)
  return entries
end

-- Agents' names by id, for the agents of the entries (one call each;
-- an agent that cannot be read shows its id).
local function names_of(entries)
  local names = {}
  for _, e in ipairs(entries) do
    if names[e.agent] == nil then
      local agent = get_session():agent(e.agent)
      names[e.agent] = agent and (agent.first_name .. " " ..
        agent.last_name):gsub("^ ", "") or ("agent " .. e.agent)
    end
  end
  return names
end

-- GET /planning.json?team=N
function site.planning_json()
  local team = team_of_query()
  if not team then return fail_json(400, "give ?team=N") end
  local entries, err = planning_of(team)
  if not entries then return fail_json(502, tostring(err)) end
  local start, stop = today()
  return finish(200, "application/json", encode{
    team = tonumber(team), entries = kiamo.array(entries),
    period = {startTime = os.date("!%Y-%m-%dT%H:%M:%SZ", start),
              endTime = os.date("!%Y-%m-%dT%H:%M:%SZ", stop)}})
end

local PAGE_HEAD = [[<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Team %s: planning for %s</title>
<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}
</style></head><body>
<h1>Team %s: planning for %s (UTC)</h1>
]]

-- GET /planning?team=N (HTML); with supervisor=1 each row has a button
-- that removes the entry.
function site.planning_html()
  local team = team_of_query()
  if not team then
    return finish(400, "text/html; charset=utf-8",
      "<p>Give the team in the address: /planning?team=1</p>\n")
  end
  local entries, err = planning_of(team)
  if not entries then
    return finish(502, "text/html; charset=utf-8",
      "<p>Kiamo did not answer: " .. escape_html(err) .. "</p>\n")
  end
  local supervisor = ngx.var.arg_supervisor == "1"
  local names = names_of(entries)
  local day = os.date("!%Y-%m-%d", (today()))
  local out = {string.format(PAGE_HEAD, escape_html(team), day,
                             escape_html(team), day)}
  if #entries == 0 then
    out[#out + 1] = "<p>Nothing planned today.</p>\n"
  else
    out[#out + 1] = "<table>\n<tr><th>From</th><th>To</th><th>Agent</th>"
      .. "<th>Activity</th>" .. (supervisor and "<th></th>" or "")
      .. "</tr>\n"
    for _, e in ipairs(entries) do
      local row = {"<tr>"}
      row[#row + 1] = "<td>" .. e.startTime:sub(12, 16) .. "</td>"
      row[#row + 1] = "<td>" .. e.endTime:sub(12, 16) .. "</td>"
      row[#row + 1] = "<td>" .. escape_html(names[e.agent]) .. "</td>"
      row[#row + 1] = "<td>" .. escape_html(e.activity) .. "</td>"
      if supervisor then
        row[#row + 1] = string.format(
          '<td><form method="post" action="/planning/remove">'
          .. '<input type="hidden" name="team" value="%s">'
          .. '<input type="hidden" name="agent" value="%s">'
          .. '<input type="hidden" name="activity" value="%s">'
          .. '<input type="hidden" name="start" value="%s">'
          .. '<input type="hidden" name="end" value="%s">'
          .. '<button>Remove</button></form></td>',
          escape_html(team), escape_html(e.agent), escape_html(e.activity),
          escape_html(e.startTime), escape_html(e.endTime))
      end
      out[#out + 1] = table.concat(row) .. "</tr>\n"
    end
    out[#out + 1] = "</table>\n"
  end
  out[#out + 1] = "</body></html>\n"
  return finish(200, "text/html; charset=utf-8", table.concat(out))
end

-- POST /planning/remove (a form: agent, activity, start, end, team):
-- removes that entry, then sends the supervisor back to the page.
function site.remove()
  if ngx.req.get_method() ~= "POST" then
    ngx.header["Allow"] = "POST"
    return finish(405, "text/plain", "POST only\n")
  end
  ngx.req.read_body()
  local form = ngx.req.get_post_args() or {}
  local fields = {}
  for _, name in ipairs{"agent", "activity", "start", "end", "team"} do
    local v = form[name]
    if type(v) ~= "string" or v == "" then
      return finish(400, "text/plain", "missing field " .. name .. "\n")
    end
    fields[name] = v
  end
  local ok, err = pcall(function()
    local done, failure = get_session():delete_planning{
      periods = {{fields.start, fields["end"]}},
      activities = {fields.activity}, agents = {fields.agent}}
    if not done then error(failure, 0) end
  end)
  if not ok then
    return finish(400, "text/plain", "not removed: " .. tostring(err) .. "\n")
  end
  if not fields.team:match("^[1-9]%d*$") then fields.team = "1" end
  return ngx.redirect("/planning?supervisor=1&team=" .. fields.team, 303)
end

return site

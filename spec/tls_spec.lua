-- Specs for kiamo over HTTPS: nginx on loopback, with a certificate from a
-- throw-away CA made at test time, in front of kiamo-mock. Verification is
-- on by default, ca_file trusts the CA, verify = false is for tests and
-- says so in every event.

local socket = require "socket"
local kiamo = require "kiamo"
local mock_server = require "support.mock_server"
local shell = require "support.shell"

local TOKEN = "0123456789abcdef0123456789abcdef01234567"
local AGENT_LOGIN = "hugo.lindqvast"   -- agent 1 of the default fixture

local SETTINGS = {
  start_timeout = 10,   -- seconds nginx has to start listening
  stop_timeout = 10,    -- seconds nginx has to exit after SIGTERM
  attempts = 3,         -- tries at a free port (another may take it)
}

local quote = shell.quote
local read_file = shell.read_file
local write_file = shell.write_file
local free_port = shell.free_port


-- Runs a shell command; raises with its output when it fails.
local function run(command)
  local pipe = assert(io.popen(command .. " 2>&1", "r"))
  local output = pipe:read("a")
  local ok, _, code = pipe:close()
  if not ok then
    error(string.format("command failed (%s): %s\n%s", tostring(code),
      command, output), 2)
  end
  return output
end

local function make_temp_dir()
  local dir = run("mktemp -d"):gsub("%s+$", "")
  run("chmod 755 " .. quote(dir))  -- nginx workers may run as nobody
  return dir
end

-- A CA named 'name' in dir/name.pem (key dir/name.key).
local function make_ca(dir, name)
  local base = dir .. "/" .. name
  run(string.format("openssl req -x509 -newkey ec -pkeyopt "
    .. "ec_paramgen_curve:prime256v1 -nodes -days 2 -subj %s -keyout %s "
    .. "-out %s -addext basicConstraints=critical,CA:TRUE "
    .. "-addext keyUsage=critical,keyCertSign,cRLSign",
    quote("/CN=kiamo throw-away CA " .. name), quote(base .. ".key"),
    quote(base .. ".pem")))
  return base .. ".pem"
end

-- A server certificate dir/NAME.pem (key dir/NAME.key) signed by the CA
-- 'ca', for the subject alternative names 'san'.
local function make_server_cert(dir, ca, name, san)
  local base = dir .. "/" .. name
  local ext = base .. ".ext"
  write_file(ext, "basicConstraints=CA:FALSE\n"
    .. "keyUsage=critical,digitalSignature\n"
    .. "extendedKeyUsage=serverAuth\n"
    .. "subjectAltName=" .. san .. "\n")
  run(string.format("openssl req -new -newkey ec -pkeyopt "
    .. "ec_paramgen_curve:prime256v1 -nodes -subj %s -keyout %s -out %s",
    quote("/CN=" .. name), quote(base .. ".key"), quote(base .. ".csr")))
  run(string.format("openssl x509 -req -days 2 -in %s -CA %s -CAkey %s "
    .. "-CAcreateserial -extfile %s -out %s", quote(base .. ".csr"),
    quote(dir .. "/" .. ca .. ".pem"), quote(dir .. "/" .. ca .. ".key"),
    quote(ext), quote(base .. ".pem")))
  return {cert = base .. ".pem", key = base .. ".key"}
end

-- One TLS server block per {port=, cert=, key=} in 'servers', each a
-- proxy to the emulator.
local function nginx_conf(dir, servers, upstream_port)
  local lines = {
    "daemon off;",
    "worker_processes 1;",
    "pid " .. dir .. "/nginx.pid;",
    "error_log " .. dir .. "/error.log;",
    "events { worker_connections 64; }",
    "http {",
    "  access_log " .. dir .. "/access.log;",
    "  client_body_temp_path " .. dir .. "/client_body;",
    "  proxy_temp_path " .. dir .. "/proxy;",
    "  fastcgi_temp_path " .. dir .. "/fastcgi;",
    "  uwsgi_temp_path " .. dir .. "/uwsgi;",
    "  scgi_temp_path " .. dir .. "/scgi;",
  }
  for _, server in ipairs(servers) do
    for _, line in ipairs{
      "  server {",
      "    listen 127.0.0.1:" .. server.port .. " ssl;",
      "    ssl_certificate " .. server.cert .. ";",
      "    ssl_certificate_key " .. server.key .. ";",
      "    location / {",
      "      proxy_pass http://127.0.0.1:" .. upstream_port .. ";",
      "      proxy_http_version 1.1;",
      "      proxy_set_header Connection \"\";",
      "      proxy_buffering off;",
      "      proxy_request_buffering off;",
      "    }",
      "  }",
    } do
      lines[#lines + 1] = line
    end
  end
  lines[#lines + 1] = "}"
  return table.concat(lines, "\n") .. "\n"
end

local function accepts(port)
  local sock = socket.tcp()
  sock:settimeout(0.2)
  local ok = sock:connect("127.0.0.1", port)
  sock:close()
  return ok ~= nil
end

local function running(pid)
  local stat = read_file("/proc/" .. pid .. "/stat") or ""
  return stat ~= "" and not stat:match("^%d+ %b() Z")
end

-- Starts nginx in the foreground serving each of 'certs' ({cert=, key=})
-- on a free port of its own; returns {pid=, pipe=, ports={...}} once it
-- accepts connections, or nil and its error log.
local function start_nginx(dir, certs, upstream_port)
  local servers, ports = {}, {}
  for i, c in ipairs(certs) do
    ports[i] = free_port()
    servers[i] = {port = ports[i], cert = c.cert, key = c.key}
  end
  local conf = dir .. "/nginx.conf"
  write_file(conf, nginx_conf(dir, servers, upstream_port))
  local pipe = assert(io.popen(string.format("echo $$; exec nginx -p %s "
    .. "-c %s -e %s 2>&1", quote(dir), quote(conf),
    quote(dir .. "/error.log")), "r"))
  local pid = tonumber(pipe:read("l"))
  local deadline = socket.gettime() + SETTINGS.start_timeout
  while running(pid) and socket.gettime() < deadline do
    local all = true
    for _, port in ipairs(ports) do all = all and accepts(port) end
    if all then return {pid = pid, pipe = pipe, ports = ports} end
    socket.sleep(0.05)
  end
  os.execute("kill -KILL " .. pid .. " 2>/dev/null")
  pipe:close()
  return nil, read_file(dir .. "/error.log") or ""
end

local function stop_nginx(nginx)
  os.execute("kill -TERM " .. nginx.pid .. " 2>/dev/null")
  local deadline = socket.gettime() + SETTINGS.stop_timeout
  while running(nginx.pid) and socket.gettime() < deadline do
    socket.sleep(0.05)
  end
  os.execute("kill -KILL " .. nginx.pid .. " 2>/dev/null")
  nginx.pipe:close()
end

describe("kiamo over HTTPS", function()
  local dir, emulator, nginx, url, wrong_name_url, ca_file, other_ca_file

  lazy_setup(function()
    dir = make_temp_dir()
    ca_file = make_ca(dir, "ca")
    other_ca_file = make_ca(dir, "other")
    local certs = {
      make_server_cert(dir, "ca", "loopback", "IP:127.0.0.1,DNS:localhost"),
      make_server_cert(dir, "ca", "elsewhere", "DNS:elsewhere.invalid"),
    }
    emulator = assert(mock_server.start{tokens = {TOKEN}})
    local why
    for _ = 1, SETTINGS.attempts do
      nginx, why = start_nginx(dir, certs, emulator.port)
      if nginx then break end
    end
    assert(nginx, "nginx did not start: " .. tostring(why))
    url = "https://127.0.0.1:" .. nginx.ports[1]
    wrong_name_url = "https://127.0.0.1:" .. nginx.ports[2]
  end)

  lazy_teardown(function()
    if nginx then stop_nginx(nginx) end
    if emulator then emulator:stop() end
    if dir then run("rm -rf " .. quote(dir)) end
  end)

  local function session(options)
    local events = {}
    options.url, options.token = options.url or url, TOKEN
    options.retries = 0
    options.on_event = function(e) events[#events + 1] = e end
    return kiamo.session(options), events
  end

  it("refuses a certificate from an unknown CA: a tls error saying "
     .. "verification failed", function()
    local s, events = session{}
    finally(function() s:close() end)
    local agent, err = s:agent(1)
    assert.is_nil(agent)
    assert.is_true(kiamo.Error.is(err))
    assert.equal("tls", err.kind)
    assert.matches("verification failed", err.message:lower(), 1, true)
    assert.matches("verification failed", tostring(err):lower(), 1, true)
    assert.equal(1, #events)
    assert.is_true(events[1].verify)
    assert.is_nil(events[1].warning)
  end)

  it("refuses the certificate when ca_file holds another CA", function()
    local s = session{ca_file = other_ca_file}
    finally(function() s:close() end)
    local agent, err = s:agent(1)
    assert.is_nil(agent)
    assert.equal("tls", err.kind)
    assert.matches("verification failed", err.message:lower(), 1, true)
  end)

  it("works when ca_file holds the CA that signed the certificate",
     function()
    local s, events = session{ca_file = ca_file}
    finally(function() s:close() end)
    local agent = assert(s:agent(1))
    assert.equal(AGENT_LOGIN, agent.login)
    assert.equal(url .. "/api/v3/agents/1", events[1].url)
    assert.equal(200, events[1].status)
  end)

  it("refuses a certificate for another name, even from the CA in ca_file",
     function()
    local s = session{url = wrong_name_url, ca_file = ca_file}
    finally(function() s:close() end)
    local agent, err = s:agent(1)
    assert.is_nil(agent)
    assert.equal("tls", err.kind)
    assert.matches("name", err.message:lower(), 1, true)
  end)

  it("works with verify = false, and every event says verification is "
     .. "off", function()
    local s, events = session{verify = false}
    finally(function() s:close() end)
    local agent = assert(s:agent(1))
    assert.equal(AGENT_LOGIN, agent.login)
    assert.is_nil(s:agent(999999))
    assert.equal(2, #events)
    for _, e in ipairs(events) do
      assert.is_false(e.verify)
      assert.matches("verification is off", e.warning:lower(), 1, true)
    end
  end)
end)

package = "kiamo"
version = "0.1.0-1"
source = {
  url = "git+file:///lua-kiamo",
  tag = "v0.1.0",
}
description = {
  summary = "Script the Kiamo contact-centre API v3 from Lua",
  detailed = [[
A Lua module with a C core over libcurl for the Kiamo API v3 (activity
planning, agents, load balancing), with exact JSON integers, pages as
iterators, and kiamo-mock, a local emulator of the API.
]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.1, < 5.5",
}
external_dependencies = {
  CURL = {library = "curl"},
}
build = {
  type = "builtin",
  modules = {
    ["kiamo.core"] = {
      sources = {
        "src/core/core.c", "src/core/box.c", "src/core/buffer.c",
        "src/core/json.c", "src/core/session.c", "src/core/wire.c",
      },
      libraries = {"curl", "pthread"},
      incdirs = {"$(CURL_INCDIR)"},
      libdirs = {"$(CURL_LIBDIR)"},
    },
    ["kiamo.signal"] = "src/signal.c",
  },
  install = {
    bin = {["kiamo-mock"] = "bin/kiamo-mock"},
  },
  copy_directories = {"examples"},
}

std = "lua54"
max_line_length = 80
include_files = {"lua/**/*.lua", "spec/**/*.lua", "bin/*", "examples/**/*.lua",
                 "bench/**/*.lua", "tools/**/*.lua", ".busted", ".luacheckrc"}
exclude_files = {"build", "node_modules"}
files["spec"] = {std = "+busted"}
files[".busted"] = {std = "min"}
files[".luacheckrc"] = {std = "min", globals = {"std", "max_line_length",
  "include_files", "exclude_files", "files"}}

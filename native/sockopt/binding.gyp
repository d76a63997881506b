# The TCP MD5 / GTSM socket addon. Built with node-gyp against the headers of the installed
# Node (`--nodedir=/usr`), never downloaded ones; see README.md.
{
  "targets": [
    {
      "target_name": "sockopt",
      "sources": ["src/sockopt.cc"],
      # node-addon-api without C++ exceptions: every error path returns explicitly.
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lpthread"],
    }
  ]
}

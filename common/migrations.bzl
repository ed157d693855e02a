"""Compiles numbered SQL migration files into a C++ library."""

def sql_migrations(name, srcs, function):
    """Defines cc_library `name` with `std::vector<updraft::Migration> function()`.

    Args:
      name: target name; the header is `name`.h.
      srcs: files named NNNN_description.sql.
      function: fully unqualified C++ function name, declared in namespace updraft.
    """
    native.genrule(
        name = name + "_gen",
        srcs = srcs,
        outs = [name + ".h", name + ".cc"],
        cmd = """
set -e
H=$(location {name}.h); C=$(location {name}.cc)
printf '#pragma once\\n#include <vector>\\n#include "common/migrations.h"\\nnamespace updraft {{ std::vector<Migration> {fn}(); }}\\n' > $$H
printf '#include "%s"\\nnamespace updraft {{\\nstd::vector<Migration> {fn}() {{\\n  return {{\\n' "$$(echo $$H | sed 's|^.*/bin/||')" > $$C
for f in $(SRCS); do
  b=$$(basename $$f .sql); v=$$(echo $$b | cut -d_ -f1 | sed 's/^0*//'); n=$$(echo $$b | cut -d_ -f2-)
  printf '      {{%s, "%s", R"updraft_sql(' "$${{v:-0}}" "$$n" >> $$C
  cat $$f >> $$C
  printf ')updraft_sql"}},\\n' >> $$C
done
printf '  }};\\n}}\\n}}  // namespace updraft\\n' >> $$C
""".format(name = name, fn = function),
    )
    native.cc_library(
        name = name,
        srcs = [name + ".cc"],
        hdrs = [name + ".h"],
        deps = ["//common:migrations"],
    )

"""updraft_fuzzer: one libFuzzer harness, built three ways.

  <name>_harness     the harness (LLVMFuzzerTestOneInput) as a library
  <name>_regression  cc_test (gcc, normal test suite): replays corpus/<name>/
  <name>             cc_binary: with --config=fuzz a libFuzzer binary (clang,
                     ASan, UBSan); otherwise the replay driver. Manual: built by
                     scripts/fuzz.sh.
"""

def updraft_fuzzer(name, srcs, deps, data = [], tags = []):
    corpus = "corpus/" + name
    native.cc_library(
        name = name + "_harness",
        testonly = 1,
        srcs = srcs,
        deps = deps + [":fuzz_util", "//third_party:absl"],
        alwayslink = 1,
    )
    native.cc_test(
        name = name + "_regression",
        size = "small",
        args = ["fuzz/" + corpus],
        data = native.glob([corpus + "/**"]) + data,
        tags = tags,
        deps = [":" + name + "_harness", ":regression_main"],
    )
    native.cc_binary(
        name = name,
        testonly = 1,
        data = data,
        linkopts = select({
            ":fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        tags = ["manual"],
        deps = [":" + name + "_harness"] + select({
            ":fuzzing": [],
            "//conditions:default": [":regression_main"],
        }),
    )

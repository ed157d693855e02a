"""Generates C++ protobuf and gRPC code with Debian's protoc and plugin."""

def updraft_proto_library(name, src, deps = [], grpc = True):
    """A cc_library for one .proto file under proto/.

    Args:
      name: target name.
      src: the .proto file, relative to this package (e.g. updraft/v1/auth.proto).
      deps: other updraft_proto_library targets it imports.
      grpc: whether the file defines services.
    """
    base = src[:-len(".proto")]
    outs = [base + ".pb.h", base + ".pb.cc"]
    if grpc:
        outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc", base + "_mock.grpc.pb.h"]
    dep_srcs = [d + "_srcs" for d in deps]
    native.filegroup(name = name + "_srcs", srcs = [src] + dep_srcs)
    cmd = "/usr/bin/protoc --proto_path=proto --cpp_out=$(GENDIR)/proto "
    if grpc:
        cmd += "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin --grpc_out=generate_mock_code=true:$(GENDIR)/proto "
    cmd += "$(location {src})".format(src = src)
    native.genrule(
        name = name + "_gen",
        srcs = [src] + dep_srcs,
        outs = outs,
        cmd = cmd,
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        includes = ["."],
        deps = deps + ["//third_party:grpc", "//third_party:protobuf"],
        visibility = ["//visibility:public"],
    )

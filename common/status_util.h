#ifndef UPDRAFT_COMMON_STATUS_UTIL_H_
#define UPDRAFT_COMMON_STATUS_UTIL_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace updraft {

// The one place where the project's error model (absl::Status) meets gRPC's.
// Codes map one to one; the message is kept.
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// A gRPC handler's answer from a domain call: the value into `response`, or
// the error as a grpc::Status.
template <typename T>
grpc::Status ReplyWith(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace updraft

// Evaluates an absl::Status expression and returns it from the enclosing
// function when it is not OK.
#define UPDRAFT_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::absl::Status _updraft_status = (expr);           \
    if (!_updraft_status.ok()) return _updraft_status; \
  } while (0)

#define UPDRAFT_CONCAT_INNER_(a, b) a##b
#define UPDRAFT_CONCAT_(a, b) UPDRAFT_CONCAT_INNER_(a, b)

// Assigns the value of an absl::StatusOr expression to `lhs`, or returns its
// error status from the enclosing function.
#define UPDRAFT_ASSIGN_OR_RETURN(lhs, expr) \
  UPDRAFT_ASSIGN_OR_RETURN_IMPL_(UPDRAFT_CONCAT_(_updraft_statusor_, __LINE__), lhs, expr)

#define UPDRAFT_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                   \
  if (!statusor.ok()) return statusor.status();             \
  lhs = std::move(statusor).value()

#endif  // UPDRAFT_COMMON_STATUS_UTIL_H_

#include "common/redis_client.h"

#include <hiredis/hiredis.h>

#include "absl/strings/str_cat.h"

namespace updraft {
namespace {

RedisReply Convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisClient>> RedisClient::Create(Options options) {
  std::unique_ptr<RedisClient> client(new RedisClient(std::move(options)));
  auto pong = client->Command({"PING"});
  if (!pong.ok()) return pong.status();
  return client;
}

RedisClient::~RedisClient() {
  absl::MutexLock lock(&mu_);
  for (redisContext* c : idle_) redisFree(c);
}

absl::StatusOr<redisContext*> RedisClient::Connect() {
  timeval tv = absl::ToTimeval(options_.timeout);
  redisContext* c = redisConnectWithTimeout(options_.host.c_str(), options_.port, tv);
  if (c == nullptr || c->err) {
    std::string why = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    return absl::UnavailableError(
        absl::StrCat("redis ", options_.host, ":", options_.port, " unreachable: ", why));
  }
  redisSetTimeout(c, tv);
  return c;
}

absl::StatusOr<RedisReply> RedisClient::Command(const std::vector<std::string>& args) {
  redisContext* c = nullptr;
  {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.connections;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&ready), options_.timeout)) {
      return absl::ResourceExhaustedError("no free redis connection");
    }
    if (!idle_.empty()) {
      c = idle_.back();
      idle_.pop_back();
    } else {
      ++open_;
    }
  }
  if (c == nullptr) {
    auto conn = Connect();
    if (!conn.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;
      return conn.status();
    }
    c = *conn;
  }
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), argv.data(), lens.data()));
  absl::StatusOr<RedisReply> result;
  bool broken = false;
  if (reply == nullptr) {
    result = absl::UnavailableError(absl::StrCat("redis command failed: ", c->errstr));
    broken = true;
  } else if (reply->type == REDIS_REPLY_ERROR) {
    result =
        absl::InternalError(absl::StrCat("redis error: ", std::string(reply->str, reply->len)));
  } else {
    result = Convert(reply);
  }
  if (reply != nullptr) freeReplyObject(reply);
  absl::MutexLock lock(&mu_);
  if (broken) {
    redisFree(c);
    --open_;
  } else {
    idle_.push_back(c);
  }
  return result;
}

absl::Status RedisClient::SetWithTtl(const std::string& key, const std::string& value,
                                     absl::Duration ttl) {
  auto r = Command({"SET", key, value, "PX", absl::StrCat(absl::ToInt64Milliseconds(ttl))});
  if (!r.ok()) return r.status();
  if (r->type != RedisReply::Type::kStatus || r->str != "OK") {
    return absl::InternalError(absl::StrCat("redis SET of ", key, " did not answer OK"));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> RedisClient::SetIfAbsent(const std::string& key, const std::string& value,
                                              absl::Duration ttl) {
  auto r = Command({"SET", key, value, "PX", absl::StrCat(absl::ToInt64Milliseconds(ttl)), "NX"});
  if (!r.ok()) return r.status();
  return r->type == RedisReply::Type::kStatus;
}

absl::StatusOr<std::optional<std::string>> RedisClient::GetAndDelete(const std::string& key) {
  auto r = Command({"GETDEL", key});
  if (!r.ok()) return r.status();
  if (r->type != RedisReply::Type::kString) return std::optional<std::string>();
  return std::optional<std::string>(r->str);
}

absl::StatusOr<int64_t> RedisClient::IncrementWindow(const std::string& key,
                                                     absl::Duration window) {
  // One round trip, and the expiry can never be lost between the two steps.
  static constexpr char kScript[] =
      "local n = redis.call('INCR', KEYS[1]) "
      "if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end "
      "return n";
  auto r = Command({"EVAL", kScript, "1", key, absl::StrCat(absl::ToInt64Milliseconds(window))});
  if (!r.ok()) return r.status();
  if (r->type != RedisReply::Type::kInteger) {
    return absl::InternalError("redis INCR script did not return a number");
  }
  return r->integer;
}

absl::StatusOr<int64_t> RedisClient::Publish(const std::string& channel,
                                             const std::string& message) {
  auto r = Command({"PUBLISH", channel, message});
  if (!r.ok()) return r.status();
  return r->integer;
}

}  // namespace updraft

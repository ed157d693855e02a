#include "bench/mqtt_devices.h"

#include <mosquitto.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/push_devices.h"

namespace updraft::bench {
namespace {

MqttDevices* Self(void* userdata) { return static_cast<MqttDevices*>(userdata); }

void ConnectCallback(struct mosquitto* m, void* userdata, int rc) {
  Self(userdata)->OnConnect(m, rc);
}
void SubscribeCallback(struct mosquitto*, void* userdata, int, int, const int*) {
  Self(userdata)->OnSubscribe();
}
void MessageCallback(struct mosquitto*, void* userdata, const struct mosquitto_message* msg) {
  Self(userdata)->OnMessage(msg->payload, msg->payloadlen);
}

}  // namespace

MqttDevices::MqttDevices(Options options) : options_(std::move(options)) {
  mosquitto_lib_init();
  loop_ = std::thread([this] { Loop(); });
}

MqttDevices::~MqttDevices() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  loop_.join();
}

void MqttDevices::OpenAll() {
  absl::MutexLock lock(&mu_);
  open_requested_ = true;
}

MqttDevices::Counts MqttDevices::counts() const {
  absl::MutexLock lock(&mu_);
  return {subscribed_, static_cast<int64_t>(receipts_.size()), failed_};
}

void MqttDevices::Dump(FILE* out) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, ns] : receipts_) fprintf(out, "R %s %lld\n", id.c_str(), (long long)ns);
  fprintf(out, "END\n");
  fflush(out);
}

void MqttDevices::OnConnect(struct mosquitto* m, int rc) {
  if (rc != 0 || mosquitto_subscribe(m, nullptr, options_.topic.c_str(), 0) != MOSQ_ERR_SUCCESS) {
    absl::MutexLock lock(&mu_);
    ++failed_;
  }
}

void MqttDevices::OnSubscribe() {
  absl::MutexLock lock(&mu_);
  ++subscribed_;
}

void MqttDevices::OnMessage(const void* payload, int len) {
  const int64_t now = RealNanos();
  std::string id(static_cast<const char*>(payload), len);
  id = id.substr(0, id.find(' '));
  absl::MutexLock lock(&mu_);
  receipts_.emplace_back(std::move(id), now);
}

void MqttDevices::Loop() {
  {
    absl::MutexLock lock(&mu_);
    auto go = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || open_requested_; };
    mu_.Await(absl::Condition(&go));
    if (stopping_) return;
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  std::vector<struct mosquitto*> clients;
  auto service = [&](int timeout_ms) {
    epoll_event events[256];
    int n = epoll_wait(ep, events, 256, timeout_ms);
    for (int i = 0; i < n; ++i) {
      auto* m = static_cast<struct mosquitto*>(events[i].data.ptr);
      mosquitto_loop_read(m, 10);
      if (mosquitto_want_write(m)) mosquitto_loop_write(m, 10);
    }
  };
  for (int i = 0; i < options_.count; ++i) {
    std::string id = absl::StrCat("bench-mqtt-", options_.first + i);
    struct mosquitto* m = mosquitto_new(id.c_str(), true, this);
    mosquitto_connect_callback_set(m, ConnectCallback);
    mosquitto_subscribe_callback_set(m, SubscribeCallback);
    mosquitto_message_callback_set(m, MessageCallback);
    int rc = mosquitto_connect_bind(
        m, options_.host.c_str(), options_.port, 600,
        options_.bind_address.empty() ? nullptr : options_.bind_address.c_str());
    if (rc != MOSQ_ERR_SUCCESS) {
      absl::MutexLock lock(&mu_);
      ++failed_;
      mosquitto_destroy(m);
      continue;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = m;
    epoll_ctl(ep, EPOLL_CTL_ADD, mosquitto_socket(m), &ev);
    clients.push_back(m);
    if (i % 64 == 63) service(0);
  }
  absl::Time next_misc = absl::Now() + absl::Seconds(1);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
    }
    service(20);
    if (absl::Now() >= next_misc) {
      for (struct mosquitto* m : clients) {
        mosquitto_loop_misc(m);
        if (mosquitto_want_write(m)) mosquitto_loop_write(m, 10);
      }
      next_misc = absl::Now() + absl::Seconds(1);
    }
  }
  for (struct mosquitto* m : clients) mosquitto_destroy(m);
  close(ep);
}

int64_t MqttPublishOnce(const std::string& host, int port, const std::string& topic,
                        const std::string& payload) {
  mosquitto_lib_init();
  bool connected = false;
  struct mosquitto* m = mosquitto_new(nullptr, true, &connected);
  mosquitto_connect_callback_set(
      m, [](struct mosquitto*, void* flag, int rc) { *static_cast<bool*>(flag) = rc == 0; });
  int64_t t0 = 0;
  if (mosquitto_connect(m, host.c_str(), port, 60) == MOSQ_ERR_SUCCESS) {
    for (int i = 0; i < 500 && !connected; ++i) mosquitto_loop(m, 10, 1);  // CONNACK, <= 5 s
  }
  if (connected) {
    t0 = RealNanos();
    if (mosquitto_publish(m, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                          payload.data(), 0, false) != MOSQ_ERR_SUCCESS) {
      t0 = 0;
    }
    for (int i = 0; t0 != 0 && i < 100 && mosquitto_want_write(m); ++i) mosquitto_loop(m, 10, 1);
    mosquitto_disconnect(m);
    mosquitto_loop(m, 10, 1);
  }
  mosquitto_destroy(m);
  return t0;
}

}  // namespace updraft::bench

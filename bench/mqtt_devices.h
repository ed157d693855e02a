#ifndef UPDRAFT_BENCH_MQTT_DEVICES_H_
#define UPDRAFT_BENCH_MQTT_DEVICES_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

struct mosquitto;

namespace updraft::bench {

// The peer of the push benchmark: many MQTT subscribers (QoS 0, clean
// sessions) in one process, one libmosquitto client and TCP connection
// each, all driven by one epoll thread. Records when each message arrived
// (its payload starts with an ID). Driven by push_bench's line protocol.
class MqttDevices {
 public:
  struct Options {
    std::string host;  // the broker, e.g. 127.0.0.4
    int port = 1883;
    std::string bind_address;  // source address; "" = any
    int first = 0;
    int count = 0;
    std::string topic = "updraft/announce";
  };
  explicit MqttDevices(Options options);
  ~MqttDevices();

  // Connects and subscribes every client (in the event thread).
  void OpenAll();
  struct Counts {
    int64_t subscribed = 0;
    int64_t received = 0;
    int64_t failed = 0;
  };
  Counts counts() const;
  // "R <id> <ns>" lines, then "END".
  void Dump(FILE* out) const;

  // libmosquitto callbacks (userdata is this object).
  void OnConnect(struct mosquitto* m, int rc);
  void OnSubscribe();
  void OnMessage(const void* payload, int len);

 private:
  void Loop();

  const Options options_;
  mutable absl::Mutex mu_;
  bool open_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t subscribed_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::pair<std::string, int64_t>> receipts_ ABSL_GUARDED_BY(mu_);
  std::thread loop_;
};

// Publishes `payload` once at QoS 0 through its own connection, once the
// broker accepted it; returns RealNanos() just before the publish, or 0 when
// the broker could not be reached within 5 s.
int64_t MqttPublishOnce(const std::string& host, int port, const std::string& topic,
                        const std::string& payload);

}  // namespace updraft::bench

#endif  // UPDRAFT_BENCH_MQTT_DEVICES_H_

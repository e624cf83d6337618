// mock_kafka_cluster: librdkafka's mock cluster as a stand-alone process, the broker of every
// Kafka test. Prints the bootstrap servers as the first line of stdout, then serves until
// SIGTERM/SIGINT.
//
//   mock_kafka_cluster [--brokers N] [--down] [TOPIC:PARTITIONS ...]
//
// Topics given as TOPIC:PARTITIONS are created up front (others are auto-created by producers
// with the mock's default of 4 partitions... use explicit topics in tests).
// SIGUSR1 takes every broker down (connections dropped, new ones refused); SIGUSR2 brings them
// back. --down starts with the brokers down, for "broker down at start" tests.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  int brokers = 1;
  bool down = false;
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1, SIGUSR2}) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before librdkafka starts its threads

  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    std::fprintf(stderr, "rd_kafka_new: %s\n", err);
    return 1;
  }
  int first_topic = 1;
  for (; first_topic < argc; ++first_topic) {
    if (std::strcmp(argv[first_topic], "--brokers") == 0 && first_topic + 1 < argc) {
      brokers = std::atoi(argv[++first_topic]);
    } else if (std::strcmp(argv[first_topic], "--down") == 0) {
      down = true;
    } else {
      break;
    }
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (cluster == nullptr) {
    std::fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
    return 1;
  }
  for (int i = first_topic; i < argc; ++i) {
    std::string arg = argv[i];
    const auto colon = arg.rfind(':');
    const int partitions = colon == std::string::npos ? 1 : std::atoi(arg.c_str() + colon + 1);
    const std::string topic = arg.substr(0, colon);
    if (auto e = rd_kafka_mock_topic_create(cluster, topic.c_str(), partitions, 1)) {
      std::fprintf(stderr, "topic %s: %s\n", topic.c_str(), rd_kafka_err2str(e));
      return 1;
    }
  }
  if (down) rd_kafka_mock_broker_set_down(cluster, -1);
  std::printf("%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
  std::fflush(stdout);

  for (;;) {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig == SIGUSR1) {
      rd_kafka_mock_broker_set_down(cluster, -1);
    } else if (sig == SIGUSR2) {
      rd_kafka_mock_broker_set_up(cluster, -1);
    } else {
      break;
    }
  }
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}

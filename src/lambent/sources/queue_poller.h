#pragma once

#include "lambent/base/async.h"
#include "lambent/invoke/invoker.h"
#include "lambent/sources/mapping.h"
#include "lambent/sources/queue_source.h"

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lambent::patterns {
class FilterCriteria;
}

// Runs the enabled event source mappings of queues: pollers receive batches, drop messages the
// mapping's filters reject, invoke the function synchronously with Lambda's SQS event, and
// delete what succeeded. Failed messages stay in the queue and come back after the visibility
// timeout, so the queue's redrive policy moves them to its dead-letter queue in the end.
// Confined to the control-plane executor.
namespace lambent::sources {

struct PollerOptions {
  // Pollers of a mapping at rest, and the most it may reach without ScalingConfig.
  std::size_t minimum_pollers = 5;
  std::size_t maximum_pollers = 1000;
  // Pollers added per second while the queue has visible messages (AWS adds up to 300 a
  // minute).
  std::size_t scale_up_per_second = 5;
  // How long an idle poller waits in one receive before it checks its mapping again.
  std::chrono::seconds receive_wait{2};
};

// The outcome of a batch as ReportBatchItemFailures reads the function's response.
struct BatchVerdict {
  bool complete_failure = false;
  std::vector<std::string> failed_ids;  // message ids to keep, when not a complete failure
};

// Reads a response under AWS's rules: an empty, null or {} response or an empty or null
// batchItemFailures list is a complete success. Invalid JSON, or an entry whose itemIdentifier
// is missing, null, empty, not a string or not a message id of the batch, is a complete
// failure.
BatchVerdict read_batch_response(std::string_view payload, const std::vector<std::string>& ids);

// Compiles a mapping's filter patterns (FilterCriteria.Filters[].Pattern) for queue records.
Result<patterns::FilterCriteria> compile_filters(const std::vector<std::string>& filter_patterns);

// Builds Lambda's SQS event record for one message.
boost::json::object sqs_record(const QueueMessage& message, std::string_view queue_arn,
                               std::string_view region);

class QueuePoller {
 public:
  QueuePoller(asio::any_io_executor executor, MappingCatalog& catalog, QueueSource& queues,
              invoke::Invoker& invoker, PollerOptions options = {});
  ~QueuePoller();
  QueuePoller(const QueuePoller&) = delete;
  QueuePoller& operator=(const QueuePoller&) = delete;

  // Starts the pollers of every enabled mapping and follows the catalog's changes.
  void start();
  void stop();

  // Pollers running for a mapping now (tests and metrics).
  std::size_t pollers(std::string_view uuid) const;

 private:
  struct Run;
  void reconcile(const std::string& uuid);
  static Task<void> supervise(QueuePoller* self, std::shared_ptr<Run> run);
  static Task<void> poll(QueuePoller* self, std::shared_ptr<Run> run);
  Task<void> process(std::shared_ptr<Run> run, std::vector<QueueMessage> messages);
  void spawn_poller(const std::shared_ptr<Run>& run);

  asio::any_io_executor executor_;
  MappingCatalog& catalog_;
  QueueSource& queues_;
  invoke::Invoker& invoker_;
  PollerOptions options_;
  TaskGroup tasks_;
  std::map<std::string, std::shared_ptr<Run>, std::less<>> runs_;
  bool started_ = false;
};

}  // namespace lambent::sources

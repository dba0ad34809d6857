#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

// What the event source mappings need to know about a queue. The queue service implements it;
// CreateEventSourceMapping validates against it.
namespace lambent::sources {

struct QueueFacts {
  std::int64_t visibility_timeout_seconds = 30;
  bool fifo = false;
};

class QueueSource {
 public:
  virtual ~QueueSource() = default;
  // The facts of the queue `arn` names, or nullopt when no queue has that ARN.
  virtual std::optional<QueueFacts> describe(std::string_view arn) const = 0;
};

}  // namespace lambent::sources

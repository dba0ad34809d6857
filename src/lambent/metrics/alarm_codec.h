#pragma once

#include "lambent/base/result.h"
#include "lambent/metrics/alarms.h"

#include <string>
#include <string_view>

// The stored forms of alarms and alarm history items: one JSON document each in the document
// store. Every document carries a "format" number so a later layout can tell old ones apart.
namespace lambent::metrics {

std::string encode_alarm(const MetricAlarm& alarm);
// Errc::invalid_content naming what is wrong when the document is not a stored alarm.
Result<MetricAlarm> decode_alarm(std::string_view body);

std::string encode_history_item(const AlarmHistoryItem& item);
Result<AlarmHistoryItem> decode_history_item(std::string_view body);

}  // namespace lambent::metrics

#pragma once

#include "lambent/base/result.h"
#include "lambent/services/cloudwatch/value.h"

#include <string>
#include <string_view>

// CBOR (RFC 8949) for the Smithy RPC v2 CBOR protocol. Written here because Debian ships no
// C++ CBOR library, and the protocol needs only this small subset. Pure functions, safe on any
// thread.
namespace lambent::services::cloudwatch {

// Encodes as Smithy RPC v2 does: definite lengths, integers in their shortest form, numbers as
// float64, maps with text keys, and timestamps as tag 1 over epoch seconds (an integer when
// whole, else a float64).
std::string encode_cbor(const Value& value);

// Decodes one data item that spans all of `bytes`. Accepts every encoding a peer may choose:
// indefinite lengths, half, single and double floats, and tag 1 timestamps (integer or float
// seconds). Integers beyond the int64 range become numbers; byte strings become strings; null
// and undefined become null. Fails with Errc::invalid_content naming the offset on truncated or
// trailing data, invalid UTF-8 in a text string, a map key that is not a text string, a tag
// other than 1, a stray break, or nesting deeper than 64 levels.
Result<Value> decode_cbor(std::string_view bytes);

}  // namespace lambent::services::cloudwatch

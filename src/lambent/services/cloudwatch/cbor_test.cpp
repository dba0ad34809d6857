#include "lambent/services/cloudwatch/cbor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace lambent::services::cloudwatch {
namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kDigits[(static_cast<unsigned char>(c) >> 4) & 0xf]);
    out.push_back(kDigits[static_cast<unsigned char>(c) & 0xf]);
  }
  return out;
}

// PutMetricData as botocore 1.43's RpcV2CBORSerializer writes it: Namespace "App", one datum
// "Latency" with dimension Stage=prod, Timestamp 2024-05-01T12:00:00Z, Values [1.5, 2.0],
// Counts [2.0, 1.0], Unit Milliseconds, StorageResolution 1.
constexpr std::string_view kBotocorePutMetricData =
    "a2694e616d657370616365634170706a4d65747269634461746181a76a4d65747269634e616d65674c6174656e"
    "63796a44696d656e73696f6e7381a2644e616d656553746167656556616c75656470726f646954696d657374616d"
    "70c11a66322ec06656616c75657382fb3ff8000000000000fb400000000000000066436f756e747382fb40000000"
    "00000000fb3ff000000000000064556e69746c4d696c6c697365636f6e64737153746f726167655265736f6c7574"
    "696f6e01";

TEST(Cbor, DecodesBotocorePutMetricData) {
  auto decoded = decode_cbor(from_hex(kBotocorePutMetricData));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->kind(), Value::Kind::structure);
  EXPECT_EQ(decoded->find("Namespace")->as_string(), "App");
  const Value& datum = decoded->find("MetricData")->items().at(0);
  EXPECT_EQ(datum.find("MetricName")->as_string(), "Latency");
  EXPECT_EQ(datum.find("Dimensions")->items().at(0).find("Value")->as_string(), "prod");
  ASSERT_EQ(datum.find("Timestamp")->kind(), Value::Kind::timestamp);
  EXPECT_EQ(datum.find("Timestamp")->as_timestamp_ms(), 1714564800000);
  EXPECT_EQ(datum.find("Values")->items().at(0).as_number(), 1.5);
  EXPECT_EQ(datum.find("Counts")->items().at(0).as_number(), 2.0);
  EXPECT_EQ(datum.find("StorageResolution")->as_integer(), 1);
}

TEST(Cbor, RoundTripsEveryKind) {
  Value input = Value::structure();
  input.set("null", Value());
  input.set("true", Value::boolean(true));
  input.set("false", Value::boolean(false));
  input.set("small", Value::integer(23));
  input.set("byte", Value::integer(24));
  input.set("negative", Value::integer(-500));
  input.set("large", Value::integer(std::int64_t{1} << 40));
  input.set("minimum", Value::integer(std::numeric_limits<std::int64_t>::min()));
  input.set("number", Value::number(-0.125));
  input.set("text", Value::string("héllo"));
  input.set("whole_second", Value::timestamp(1714564800000));
  input.set("fraction", Value::timestamp(1714564800250));
  Value list = Value::list();
  list.push_back(Value::string(std::string(300, 'x')));
  list.push_back(Value::structure());
  input.set("list", std::move(list));

  auto decoded = decode_cbor(encode_cbor(input));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, input);
}

TEST(Cbor, EncodesIntegersInShortestForm) {
  EXPECT_EQ(to_hex(encode_cbor(Value::integer(0))), "00");
  EXPECT_EQ(to_hex(encode_cbor(Value::integer(23))), "17");
  EXPECT_EQ(to_hex(encode_cbor(Value::integer(24))), "1818");
  EXPECT_EQ(to_hex(encode_cbor(Value::integer(1000))), "1903e8");
  EXPECT_EQ(to_hex(encode_cbor(Value::integer(-1))), "20");
  EXPECT_EQ(to_hex(encode_cbor(Value::integer(-1000))), "3903e7");
  EXPECT_EQ(to_hex(encode_cbor(Value::number(1.5))), "fb3ff8000000000000");
  EXPECT_EQ(to_hex(encode_cbor(Value::timestamp(1714564800000))), "c11a66322ec0");
}

TEST(Cbor, DecodesIndefiniteLengthsAndSmallFloats) {
  // {_ "a": [_ 1, 2], "b": (_ "x", "y")} and a half float 1.5, a single float 0.5.
  auto decoded = decode_cbor(from_hex("bf61619f0102ff61627f61786179ff6163f93e006164fa3f000000ff"));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->find("a")->items().size(), 2u);
  EXPECT_EQ(decoded->find("b")->as_string(), "xy");
  EXPECT_EQ(decoded->find("c")->as_number(), 1.5);
  EXPECT_EQ(decoded->find("d")->as_number(), 0.5);
}

TEST(Cbor, DecodesHalfFloatSpecialValues) {
  EXPECT_TRUE(std::isinf(decode_cbor(from_hex("f97c00"))->as_number()));
  EXPECT_TRUE(std::isnan(decode_cbor(from_hex("f97e00"))->as_number()));
  EXPECT_EQ(decode_cbor(from_hex("f90001"))->as_number(), std::ldexp(1.0, -24));
}

TEST(Cbor, DecodesFloatTimestamp) {
  // 1(1714564800.25)
  auto decoded = decode_cbor(from_hex("c1fb41d98c8bb0100000"));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->as_timestamp_ms(), 1714564800250);
}

TEST(Cbor, RejectsMalformedInput) {
  struct Case {
    std::string_view hex;
    std::string_view reason;
  };
  const Case cases[] = {
      {"", "empty"},
      {"a1", "map without entries"},
      {"63616263ff", "trailing byte"},
      {"62c328", "invalid UTF-8"},
      {"a10102", "integer map key"},
      {"c26161", "unsupported tag"},
      {"ff", "stray break"},
      {"1c", "reserved additional information"},
      {"9b00000000ffffffff", "array longer than the input"},
      {"7a0000ffff", "string longer than the input"},
      {"c16161", "tag 1 over text"},
      {"f818", "one-byte simple value"},
  };
  for (const auto& c : cases) {
    auto decoded = decode_cbor(from_hex(c.hex));
    EXPECT_FALSE(decoded.ok()) << c.reason;
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.error().code, Errc::invalid_content) << c.reason;
    }
  }
}

TEST(Cbor, RejectsDeepNesting) {
  std::string deep(100, static_cast<char>(0x81));
  deep.push_back(0x01);
  auto decoded = decode_cbor(deep);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("nesting"), std::string::npos);
}

TEST(Cbor, LargeUnsignedBecomesNumber) {
  auto decoded = decode_cbor(from_hex("1bffffffffffffffff"));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->kind(), Value::Kind::number);
  EXPECT_EQ(decoded->as_number(), 18446744073709551615.0);
}

}  // namespace
}  // namespace lambent::services::cloudwatch

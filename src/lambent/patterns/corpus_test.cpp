// Runs the EventBridge pattern corpus, whose results were recorded against AWS's
// TestEventPattern, from $LAMBENT_CORPUS or else /work/shared/corpus, and skips when it is
// absent. Each eventbridge-patterns/*.json5 file contains an Event and an EventPattern. A name
// ending in _NEG must not match, and one ending in _EXC must be rejected with the message in
// test_events_patterns.snapshot.json. Any other must match.
#include "lambent/patterns/event_pattern.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace lambent::patterns {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;

fs::path corpus_dir() {
  const char* env = std::getenv("LAMBENT_CORPUS");
  return fs::path(env && *env ? env : "/work/shared/corpus") / "eventbridge-patterns";
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The JSON5 the corpus uses is JSON plus // and /* */ comments and trailing commas; this
// removes both, leaving strings untouched.
std::string json5_to_json(std::string_view text) {
  std::string out;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
    } else if (text.substr(i, 2) == "//") {
      while (i < text.size() && text[i] != '\n') ++i;
      out += '\n';
    } else if (text.substr(i, 2) == "/*") {
      std::size_t end = text.find("*/", i + 2);
      i = end == std::string_view::npos ? text.size() : end + 1;
    } else if (c == ',') {
      std::size_t next = text.find_first_not_of(" \t\r\n", i + 1);
      // A comment may sit between a trailing comma and the bracket.
      while (next != std::string_view::npos && text.substr(next, 2) == "//") {
        next = text.find('\n', next);
        if (next != std::string_view::npos) next = text.find_first_not_of(" \t\r\n", next);
      }
      bool trailing = next != std::string_view::npos && (text[next] == '}' || text[next] == ']');
      if (!trailing) out += c;
    } else {
      out += c;
    }
  }
  return out;
}

// Maps a template stem to the message AWS gave when it rejected the pattern.
std::map<std::string, std::string> recorded_messages(const fs::path& dir) {
  std::map<std::string, std::string> messages;
  json::value snapshot = json::parse(read_file(dir / "test_events_patterns.snapshot.json"));
  constexpr std::string_view kMarker = "::test_event_pattern[";
  for (const auto& [key, entry] : snapshot.as_object()) {
    std::string_view name = key;
    std::size_t at = name.find(kMarker);
    if (at == std::string_view::npos) continue;
    std::string stem(name.substr(at + kMarker.size()));
    stem.pop_back();  // the closing ']'
    const json::value* content =
        entry.as_object().at("recorded-content").as_object().if_contains(stem);
    if (!content || !content->as_object().contains("exception_message")) continue;
    messages[stem] = content->at("exception_message").at("Error").at("Message").as_string();
  }
  return messages;
}

TEST(EventPatternCorpus, MatchesAwsResults) {
  fs::path dir = corpus_dir();
  if (!fs::exists(dir)) {
    GTEST_SKIP() << "no pattern corpus at " << dir << " (set LAMBENT_CORPUS to its parent)";
  }
  std::map<std::string, std::string> messages = recorded_messages(dir);
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json5") continue;
    ++files;
    std::string stem = entry.path().stem().string();
    SCOPED_TRACE(stem);
    json::value test = json::parse(json5_to_json(read_file(entry.path())));
    std::string pattern_text = json::serialize(test.at("EventPattern"));
    auto pattern = EventPattern::parse(pattern_text, Dialect::eventbridge);

    if (stem.ends_with("_EXC")) {
      ASSERT_FALSE(pattern.ok()) << pattern_text;
      EXPECT_EQ(pattern.error().type, "InvalidEventPatternException");
      auto recorded = messages.find(stem);
      ASSERT_NE(recorded, messages.end()) << "no recorded message";
      EXPECT_EQ(pattern.error().message, recorded->second);
      continue;
    }
    ASSERT_TRUE(pattern.ok()) << pattern.error().message;
    EXPECT_EQ(pattern->matches(test.at("Event")), !stem.ends_with("_NEG")) << pattern_text;
  }
  EXPECT_GE(files, 150);
}

// The multi-key files are plain JSON with a duplicate key, so the pattern is parsed from its
// text. AWS reports a match.
TEST(EventPatternCorpus, DuplicateKeyPattern) {
  fs::path dir = corpus_dir();
  if (!fs::exists(dir)) {
    GTEST_SKIP() << "no pattern corpus at " << dir << " (set LAMBENT_CORPUS to its parent)";
  }
  auto pattern = EventPattern::parse(read_file(dir / "complex_multi_key_event_pattern.json"),
                                     Dialect::eventbridge);
  ASSERT_TRUE(pattern.ok()) << pattern.error().message;
  json::value event = json::parse(read_file(dir / "complex_multi_key_event.json"));
  EXPECT_TRUE(pattern->matches(event));
}

}  // namespace
}  // namespace lambent::patterns

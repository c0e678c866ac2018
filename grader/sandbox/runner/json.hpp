// json.hpp: just enough JSON to write the runner's report.
//
// Strings may hold any bytes (file names are bytes on Linux): printable
// ASCII goes as is, every other byte as \u00XX, so each byte becomes one code
// point below 256 and the reader gets the bytes back with latin-1. Raw data
// (captured output, file contents) goes as base64.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace runner {

class Json {
  public:
    // Objects and arrays: open, fill, close. Keys come before each member.
    Json& begin_object();
    Json& end_object();
    Json& begin_array();
    Json& end_array();
    Json& key(std::string_view name);

    Json& string(std::string_view text);
    Json& base64(std::string_view bytes);
    Json& number(int64_t value);
    Json& real(double value);
    Json& boolean(bool value);
    Json& null();

    const std::string& text() const { return out_; }

  private:
    void separate(); // a comma between members, none after an opening bracket or a key
    std::string out_;
    bool first_ = true;
};

} // namespace runner

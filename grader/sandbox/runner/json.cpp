#include "json.hpp"

#include <cstdio>

namespace runner {

void Json::separate()
{
    if (!first_) {
        out_ += ',';
    }
    first_ = false;
}

Json& Json::begin_object()
{
    separate();
    out_ += '{';
    first_ = true;
    return *this;
}

Json& Json::end_object()
{
    out_ += '}';
    first_ = false;
    return *this;
}

Json& Json::begin_array()
{
    separate();
    out_ += '[';
    first_ = true;
    return *this;
}

Json& Json::end_array()
{
    out_ += ']';
    first_ = false;
    return *this;
}

Json& Json::key(std::string_view name)
{
    string(name);
    out_ += ':';
    first_ = true; // the value follows without a comma
    return *this;
}

Json& Json::string(std::string_view text)
{
    separate();
    out_ += '"';
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out_ += '\\';
            out_ += static_cast<char>(c);
        } else if (c >= 0x20 && c < 0x7f) {
            out_ += static_cast<char>(c);
        } else {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
            out_ += escaped;
        }
    }
    out_ += '"';
    return *this;
}

Json& Json::base64(std::string_view bytes)
{
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    separate();
    out_ += '"';
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const uint32_t group = static_cast<uint8_t>(bytes[i]) << 16 |
                               static_cast<uint8_t>(bytes[i + 1]) << 8 |
                               static_cast<uint8_t>(bytes[i + 2]);
        for (int shift = 18; shift >= 0; shift -= 6) {
            out_ += kAlphabet[(group >> shift) & 63];
        }
    }
    if (const std::size_t rest = bytes.size() - i; rest > 0) {
        uint32_t group = static_cast<uint8_t>(bytes[i]) << 16;
        if (rest == 2) {
            group |= static_cast<uint8_t>(bytes[i + 1]) << 8;
        }
        out_ += kAlphabet[(group >> 18) & 63];
        out_ += kAlphabet[(group >> 12) & 63];
        out_ += rest == 2 ? kAlphabet[(group >> 6) & 63] : '=';
        out_ += '=';
    }
    out_ += '"';
    return *this;
}

Json& Json::number(int64_t value)
{
    separate();
    out_ += std::to_string(value);
    return *this;
}

Json& Json::real(double value)
{
    separate();
    char text[32];
    std::snprintf(text, sizeof text, "%.4f", value);
    out_ += text;
    return *this;
}

Json& Json::boolean(bool value)
{
    separate();
    out_ += value ? "true" : "false";
    return *this;
}

Json& Json::null()
{
    separate();
    out_ += "null";
    return *this;
}

} // namespace runner

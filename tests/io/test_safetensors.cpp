// safetensors: round trip of every dtype with metadata, the byte layout other tools expect,
// and refusal of truncated, corrupted, overlapping and foreign files.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>

#include "engine/io/safetensors.h"

using namespace ember;
using Catch::Matchers::Contains;

namespace {
std::string sample() {
  return serialize_safetensors({{"w", Tensor::from<float>({2, 3}, {1, 2, 3, 4, 5, 6})},
                                {"b", Tensor::from<double>({2}, {-1.5, 2.25})},
                                {"ids", Tensor::from<int32_t>({1, 1, 3}, {7, 8, 9})},
                                {"mask", Tensor::from<uint8_t>({4}, {1, 0, 1, 1})},
                                {"scalar", Tensor::from<float>({}, {3.5f})}},
                               {{"format", "ember"}, {"note", "hi"}});
}
}  // namespace

TEST_CASE("safetensors round trip", "[safetensors][cpu]") {
  const std::string bytes = sample();
  // Layout: little-endian header size, then JSON, data 8-byte aligned.
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(uint8_t(bytes[i])) << (8 * i);
  CHECK((8 + n) % 8 == 0);
  CHECK(bytes[8] == '{');
  SafetensorsFile f = parse_safetensors(bytes, "mem");
  REQUIRE(f.tensors.size() == 5);
  CHECK(f.metadata.at("format") == "ember");
  CHECK(f.tensors[0].first == "w");  // in offset order = write order
  CHECK(f.find("w")->shape() == Shape{2, 3});
  CHECK(f.find("w")->at<float>(5) == 6.0f);
  CHECK(f.find("b")->at<double>(1) == 2.25);
  CHECK(f.find("ids")->shape() == Shape{1, 1, 3});
  CHECK(f.find("mask")->at<uint8_t>(1) == 0);
  CHECK(f.find("scalar")->shape() == Shape{});
  CHECK(f.find("nope") == nullptr);

  auto dir = std::filesystem::temp_directory_path() / "ember_st_test";
  std::filesystem::create_directories(dir);
  std::string path = (dir / "m.safetensors").string();
  save_safetensors(path, {{"x", Tensor::from<float>({1}, {4})}}, {});
  CHECK(load_safetensors(path).find("x")->at<float>(0) == 4.0f);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("safetensors refuses bad files with a reason", "[safetensors][cpu]") {
  const std::string good = sample();
  CHECK_THROWS_WITH(parse_safetensors(good.substr(0, 5), "f"), Contains("truncated"));
  CHECK_THROWS_WITH(parse_safetensors(good.substr(0, 40), "f"), Contains("truncated"));
  CHECK_THROWS_WITH(parse_safetensors(good.substr(0, good.size() - 3), "f"),
                    Contains("outside the data"));
  CHECK_THROWS_WITH(parse_safetensors("\x89PNG\r\n\x1a\n....", "pic.png"),
                    Contains("pic.png") && Contains("implausible"));
  std::string corrupt = good;
  corrupt[9] = '#';
  CHECK_THROWS_WITH(parse_safetensors(corrupt, "f"), Contains("not JSON"));
  auto with_header = [](const std::string& h, size_t data_bytes) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = char((h.size() >> (8 * i)) & 0xff);
    return s + h + std::string(data_bytes, '\0');
  };
  CHECK_THROWS_WITH(
      parse_safetensors(
          with_header(
              R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
              8),
          "f"),
      Contains("overlap"));
  CHECK_THROWS_WITH(
      parse_safetensors(with_header(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
                        "f"),
      Contains("8 bytes for shape [3]"));
  CHECK_THROWS_WITH(
      parse_safetensors(
          with_header(R"({"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}})", 2), "f"),
      Contains("unsupported dtype BF16"));
  CHECK_THROWS_WITH(
      parse_safetensors(
          with_header(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4), "f"),
      Contains("bad dimension"));
  CHECK_THROWS_WITH(parse_safetensors(with_header(R"([1,2])", 0), "f"),
                    Contains("not a JSON object"));
  CHECK_THROWS_WITH(load_safetensors("/nonexistent/x.safetensors"), Contains("cannot open"));
  CHECK_THROWS_WITH(serialize_safetensors({{"a", Tensor::zeros({1}, DType::kFloat32)},
                                           {"a", Tensor::zeros({1}, DType::kFloat32)}},
                                          {}),
                    Contains("repeated"));
}

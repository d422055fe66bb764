// The `data:` section's schema: sources as strings, maps and lists; top-level keys as defaults
// that every source inherits; test/validation maps without `file` taken from the train files;
// label lists and maps, drop_labels, cleaning step names checked against data::Cleaner; and
// train.bucket_by_length. Error positions are counted by hand from the YAML literals.
#include <catch2/catch.hpp>

#include <string>

#include "engine/config/config.h"
#include "engine/parse/load_config.h"
#include "tests/support/test_util.h"

using namespace ember;

namespace {

const char* kFile = "configs/x.yaml";

}  // namespace

TEST_CASE("data sources: a list of line files inherits the data-level defaults", "[config]") {
  Config c = parse_config(R"(data:
  format: lines
  encoding: latin-1
  train:
    - {file: s140/neg.txt.xz, label: "0"}
    - {file: s140/pos.txt.xz, label: "4"}
  test: {file: s140/test.csv.xz, format: csv, header: false, text_column: 5, label_column: 0}
  labels: {"0": 0, "4": 1}
  drop_labels: ["2"]
)",
                          kFile);
  REQUIRE(c.data.train.size() == 2);
  CHECK(c.data.train[0].file == "s140/neg.txt.xz");
  CHECK(c.data.train[0].format == data::TableFormat::kLines);
  CHECK_FALSE(c.data.train[0].header);  // lines files have no header by default
  CHECK(c.data.train[0].encoding == data::TextEncoding::kLatin1);
  CHECK(c.data.train[0].label == std::optional<std::string>("0"));
  CHECK(c.data.train[1].label == std::optional<std::string>("4"));
  CHECK(c.data.train[1].path == "data.train[1]");
  CHECK(c.data.train[1].loc.str() == "configs/x.yaml:6:7");
  REQUIRE(c.data.test.size() == 1);
  const DataSource& t = c.data.test[0];
  CHECK(t.format == data::TableFormat::kCsv);
  CHECK_FALSE(t.header);
  CHECK(t.text_column == "5");
  CHECK(t.label_column == "0");
  CHECK_FALSE(t.label.has_value());
  CHECK(t.encoding == data::TextEncoding::kLatin1);  // inherited
  CHECK(c.data.drop_labels == std::vector<std::string>{"2"});
  CHECK(c.data.label_map.at("4") == 1);
  CHECK(c.data.labels_loc.str() == "configs/x.yaml:8:11");
}

TEST_CASE("data sources: test and validation maps without a file take the train files",
          "[config]") {
  Config c = parse_config(R"(data:
  train:
    - {file: a.csv, text_column: body}
    - {file: b.tsv, format: tsv, filter: {lang: ig}}
  filter: {split: train}
  test: {filter: {split: test}}
  validation: [{filter: {split: dev}, label_column: gold}]
)",
                          "configs/x.yaml");
  REQUIRE(c.data.train.size() == 2);
  CHECK(c.data.train[0].filter == std::map<std::string, std::string>{{"split", "train"}});
  // A source's own filter replaces the default one (it is not merged).
  CHECK(c.data.train[1].filter == std::map<std::string, std::string>{{"lang", "ig"}});
  REQUIRE(c.data.test.size() == 2);
  CHECK(c.data.test[0].file == "a.csv");
  CHECK(c.data.test[0].text_column == "body");
  CHECK(c.data.test[1].file == "b.tsv");
  CHECK(c.data.test[1].format == data::TableFormat::kTsv);
  for (const DataSource& s : c.data.test)
    CHECK(s.filter == std::map<std::string, std::string>{{"split", "test"}});
  REQUIRE(c.data.validation.size() == 2);
  CHECK(c.data.validation[1].label_column == "gold");
  CHECK(c.data.validation[1].filter == std::map<std::string, std::string>{{"split", "dev"}});
  CHECK(c.data.validation[0].path == "data.validation[0]");
}

TEST_CASE("data sources: header defaults and explicit filters", "[config]") {
  Config c = parse_config("data: {train: {file: x.tsv, format: tsv, filter: {}}, filter: {a: b}}\n",
                          kFile);
  CHECK(c.data.train[0].header);
  CHECK(c.data.train[0].filter.empty());  // `filter: {}` switches the default off
  CHECK(c.data.real());
  Config s = parse_config("data: {synthetic: {}}\n", kFile);
  CHECK_FALSE(s.data.real());
}

TEST_CASE("data section mistakes name their place", "[config]") {
  test::check_config_errors({
      {"data: {train: a.txt, format: lines}\n",
       "configs/x.yaml:1:15: data.train.label: missing required value: a `format: lines` file "
       "has no label column, so give the label of its rows (e.g. label: positive)"},
      {"data: {train: {file: a.csv, text_colum: t}}\n",
       "configs/x.yaml:1:29: data.train.text_colum: unknown key 'text_colum'; did you mean "
       "'text_column'?"},
      {"data: {train: [a.csv, {format: csv}]}\n",
       "configs/x.yaml:1:23: data.train[1].file: missing required value (a data file path)"},
      {"data: {train: []}\n", "configs/x.yaml:1:15: data.train: expected at least one source"},
      {"data: {train: a.csv, test: {header: true}}\n",
       "configs/x.yaml:1:28: data.test: a map without `file` takes the train file(s): give at "
       "least a filter (e.g. {filter: {split: test}})"},
      {"data: {train: a.csv, encoding: utf8}\n",
       "configs/x.yaml:1:32: data.encoding: expected one of utf-8, latin-1, got \"utf8\"; did "
       "you mean 'utf-8'?"},
      {"data: {train: a.csv, labels: {a: 0, b: 2}}\n",
       "configs/x.yaml:1:30: data.labels: class ids must run from 0 with no gaps, but no label "
       "maps to 1"},
      {"data: {train: a.csv, labels: [a, b], drop_labels: [c, b]}\n",
       "configs/x.yaml:1:51: data.drop_labels: label \"b\" is both a class in data.labels and "
       "dropped"},
      {"data: {train: {file: a.csv, filter: [split]}}\n",
       "configs/x.yaml:1:37: data.train.filter: expected a map {column: value}, got a list"},
      {"data: {train: 3x, header: maybe}\n",
       "configs/x.yaml:1:27: data.header: expected true or false, got \"maybe\""},
  });
}

TEST_CASE("data.clean steps are checked against the cleaner's list", "[config]") {
  Config c = parse_config("data: {train: a.csv, clean: [strip_html, seed001_clean]}\n", kFile);
  CHECK(c.data.clean == std::vector<std::string>{"strip_html", "seed001_clean"});
  const std::string msg =
      test::config_error_of("data: {train: a.csv, clean: [strip_html, lowercas]}\n");
  INFO(msg);
  CHECK(msg.rfind("configs/x.yaml:1:42: data.clean[1]: unknown cleaning step 'lowercas'", 0) == 0);
  CHECK(msg.find("lowercase") != std::string::npos);  // the known steps are listed
}

TEST_CASE("train.bucket_by_length", "[config]") {
  CHECK_FALSE(parse_config("train: {epochs: 1}\n", kFile).train.bucket_by_length);
  CHECK(parse_config("train: {bucket_by_length: true}\n", kFile).train.bucket_by_length);
  CHECK(test::config_error_of("train: {bucket_by_length: 1}\n") ==
        "configs/x.yaml:1:27: train.bucket_by_length: expected true or false, got \"1\"");
}

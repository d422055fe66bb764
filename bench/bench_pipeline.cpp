// Times the text pipeline on IMDB's 50,000 reviews, stage by stage: read (xz + CSV parse),
// clean (seed 001: strip_html then the seed001_clean preset), fit the tokenizer (num_words
// 6000), texts_to_sequences, pad (maxlen 370), then the whole of data::load_dataset on the
// equivalent config (two threads for cleaning and sequences). Reports wall and CPU seconds
// per stage (CPU = std::clock, all threads) and the peak RSS (ru_maxrss); budget: under 10 s
// and 1 GB on a 2-core machine. Prints a table and one JSON line; returns 1 when over budget.
// Usage: bench_pipeline [data_dir] (default $EMBER_DATA, else ../shared/data next to the repo).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_common.h"
#include "engine/config/config.h"
#include "engine/data/clean.h"
#include "engine/data/reader.h"
#include "engine/data/sequence.h"
#include "engine/data/tokenizer.h"
#include "engine/parse/load_config.h"
#include "engine/pipeline/loader.h"

using namespace ember;

namespace {

struct Clock {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  std::clock_t cpu = std::clock();
};

struct Stage {
  const char* name;
  double wall_s, cpu_s;
};

// The 1-minute load average: on a shared machine wall time exceeds CPU time by about
// load / cores, so the JSON line carries it.
double load_average() {
  double l = -1;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &l) != 1) l = -1;
    std::fclose(f);
  }
  return l;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // kilobytes on Linux
}

const char* kConfig = R"(
name: bench_pipeline
seed: 1337
data:
  train: imdb/imdb_50k.csv.xz
  text_column: review
  label_column: sentiment
  labels: [negative, positive]
  clean: [strip_html, seed001_clean]
tokenizer: {num_words: 6000}
sequence: {maxlen: 370}
)";

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "";
  if (dir.empty()) {
    const char* env = std::getenv("EMBER_DATA");
    dir = env && *env ? env : std::string(EMBER_SOURCE_DIR) + "/../shared/data";
  }
  const std::string path = dir + "/imdb/imdb_50k.csv.xz";
  std::vector<Stage> stages;
  try {
    auto stage = [&](const char* name, Clock& c) {
      Clock now;
      stages.push_back({name, std::chrono::duration<double>(now.wall - c.wall).count(),
                        double(now.cpu - c.cpu) / CLOCKS_PER_SEC});
      c = now;
    };
    Clock total, c;
    data::ReadOptions ro;
    data::Table t = data::read_table(path, ro);
    const size_t text_col = t.column_index("review");
    std::vector<std::string> texts;
    texts.reserve(t.rows.size());
    for (auto& r : t.rows) texts.push_back(std::move(r[text_col]));
    t = data::Table();
    stage("read (xz + csv)", c);

    data::Cleaner cleaner({"strip_html", "seed001_clean"});
    std::string out;
    for (std::string& s : texts) {
      cleaner.apply(s, &out);
      s.swap(out);
    }
    stage("clean (1 thread)", c);

    TokenizerConfig tc;
    tc.num_words = 6000;
    data::Tokenizer tok(tc);
    tok.fit_on_texts(texts);
    stage("fit tokenizer", c);

    std::vector<std::vector<int32_t>> seqs = tok.texts_to_sequences(texts);
    stage("texts_to_sequences", c);

    Tensor padded = pad_sequences(seqs, 370);
    stage("pad_sequences", c);
    const double stages_wall = std::chrono::duration<double>(c.wall - total.wall).count();
    texts.clear();
    texts.shrink_to_fit();
    seqs.clear();
    seqs.shrink_to_fit();

    // The same work through the loader (two threads for cleaning and sequences).
    Config cfg = parse_config(kConfig, "bench_pipeline.yaml");
    Clock l;
    data::LoadReport rep;
    DataSplits splits = data::load_dataset(cfg, dir, &rep);
    stage("load_dataset (all)", l);
    if (splits.train.size() != 50000 || padded.size(0) != 50000 || padded.size(1) != 370) {
      std::fprintf(stderr, "bench_pipeline: expected 50000 x 370 rows, got %lld\n",
                   static_cast<long long>(splits.train.size()));
      return 1;
    }
    const double rss = peak_rss_mb();
    const bool within = stages.back().wall_s < 10 && rss < 1024;
    std::printf("IMDB 50k pipeline (%u hardware threads), vocabulary %zu words\n",
                std::thread::hardware_concurrency(), tok.index_word().size());
    std::printf("%-22s %9s %9s\n", "stage", "wall s", "cpu s");
    for (const Stage& s : stages) std::printf("%-22s %9.3f %9.3f\n", s.name, s.wall_s, s.cpu_s);
    std::printf("%-22s %9.3f\npeak RSS %.0f MB, load average %.2f; budget 10 s, 1024 MB: %s\n",
                "sum of stages", stages_wall, rss, load_average(), within ? "within" : "OVER");
    std::printf(
        "{\"bench\":\"pipeline\",\"data\":\"imdb_50k\",\"device\":\"cpu\",\"cpu\":\"%s\","
        "\"commit\":\"%s\",\"hw_threads\":%u,\"rows\":50000,\"num_words\":6000,"
        "\"maxlen\":370,\"clean\":\"strip_html,seed001_clean\"",
        bench::cpu_model().c_str(), bench::git_commit().c_str(),
        std::thread::hardware_concurrency());
    const char* keys[] = {"read_s", "clean_s", "fit_s", "sequences_s", "pad_s", "load_dataset_s"};
    for (size_t i = 0; i < stages.size(); ++i)
      std::printf(",\"%s\":%.3f", keys[i], stages[i].wall_s);
    std::printf(
        ",\"stages_s\":%.3f,\"load_dataset_cpu_s\":%.3f,\"peak_rss_mb\":%.0f,"
        "\"loadavg\":%.2f}\n",
        stages_wall, stages.back().cpu_s, rss, load_average());
    return within ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_pipeline: %s\n", e.what());
    return 1;
  }
}

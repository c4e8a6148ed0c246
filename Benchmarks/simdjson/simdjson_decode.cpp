// The C++ baseline of `make bench`: simdjson (On-Demand API) decoding the same jdat lines the
// Swift benchmark wrote, with the same work per line — the envelope fields and every payload
// sample into a float buffer. Prints one line: MB/s, lines/s, ns/sample (best of the passes).
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

int main(int argc, char **argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s LINES.jsonl ROUNDS PASSES\n", argv[0]);
        return 2;
    }
    std::ifstream input(argv[1]);
    std::vector<simdjson::padded_string> lines;
    size_t bytes = 0;
    for (std::string line; std::getline(input, line);) {
        bytes += line.size();
        lines.emplace_back(line);
    }
    const int rounds = std::atoi(argv[2]), passes = std::atoi(argv[3]);
    simdjson::ondemand::parser parser;
    std::vector<float> samples(1 << 16);
    double best = 1e300;
    size_t sampleCount = 0;
    for (int pass = 0; pass < passes; pass++) {
        auto start = std::chrono::steady_clock::now();
        sampleCount = 0;
        for (int round = 0; round < rounds; round++) {
            for (auto &line : lines) {
                auto document = parser.iterate(line);
                std::string_view type = document["type"];
                std::string_view version = document["version"];
                int64_t timestamp = document["timestamp_gpu"];
                std::string_view session = document["session_id"];
                std::string_view stream = document["stream_id"];
                uint64_t seq = document["seq"];
                int64_t rate = document["sample_rate"];
                int64_t channels = document["channels"];
                size_t count = 0;
                for (double value : document["payload"]) samples[count++] = float(value);
                if (type != "jdat" || version.empty() || session.empty() || stream.empty() || rate != 48000 ||
                    count % channels != 0 || timestamp == 0 || seq > (1ull << 62)) {
                    std::fprintf(stderr, "unexpected line\n");
                    return 1;
                }
                sampleCount += count;
            }
        }
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (seconds < best) best = seconds;
    }
    std::printf("%f %f %f\n", double(bytes) * rounds / best / 1e6, double(lines.size()) * rounds / best, best * 1e9 / double(sampleCount));
    return 0;
}

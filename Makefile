# The README's two commands, `make run` and `make test`, do all set-up on a fresh Debian 12
# machine with Swift installed. Everything else here is what they are made of.
SHELL := /bin/bash
SWIFT ?= swift
# A crash in a test prints the crashed thread's stack, not every register and image, so that the
# end of a CI log (what is kept of it) says where it happened.
export SWIFT_BACKTRACE ?= enable=yes,threads=crashed,registers=none,images=none
# How long `make fuzz` (and the fuzzing step of `make test`) runs, in seconds.
SECONDS ?= 60

# Debian packages each command needs. The sender (jamsend) renders with Vulkan: the loader and
# headers, Mesa's lavapipe as the device on machines without a GPU, and glslang to check its shader.
# Playback needs ALSA and libsamplerate; its tests need the JACK dummy rig (jackd2, the ALSA jack
# PCM from libasound2-plugins, libjack for the probe client).
RUN_PACKAGES := libasound2-dev libsamplerate0-dev
SENDER_PACKAGES := libvulkan-dev mesa-vulkan-drivers glslang-tools
RIG_PACKAGES := jackd2 libasound2-plugins libjack-jackd2-dev
# systemd-analyze checks the service unit (its hardening score, and with strace the system calls the
# player makes against its filter); ip (iproute2) sets up the network namespaces of the multicast
# test and of the multi-host bed (util-linux's unshare, essential, their time namespaces).
TEST_PACKAGES := $(RUN_PACKAGES) $(SENDER_PACKAGES) $(RIG_PACKAGES) systemd strace iproute2 espeak-ng sox
BENCH_PACKAGES := $(RUN_PACKAGES) $(SENDER_PACKAGES) $(RIG_PACKAGES) alsa-utils zita-njbridge g++ libsimdjson-dev valgrind binutils \
	libopus-dev espeak-ng sox

FUZZ_BUILD := .build-fuzz
TSAN_BUILD := .build-tsan
FUZZ_FLAGS := -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld

# `make install`: where the binary, the service unit and its settings file go.
PREFIX ?= /usr/local
UNIT_DIR ?= /etc/systemd/system
DEFAULTS_DIR ?= /etc/default
CONFIG_DIR ?= /etc/jamplay
BIN_DIR ?= .build/release

.PHONY: run test test-rig test-system test-tsan build release install install-files fuzz bench deps-run deps-test clean

# The box's job: listen on port 9000 and play on ALSA "default" — or, on a machine where ALSA sees
# no sound card, on the "null" device (self-paced, nothing audible), saying so.
run: deps-run release
	@if grep -qE '^ *[0-9]+ \[' /proc/asound/cards 2>/dev/null; then device=default; else \
		echo "make run: ALSA sees no sound card on this machine: playing on the null device (self-paced; nothing is heard)."; \
		device=null; fi; \
	echo ".build/release/jamplay --listen :9000 --device $$device"; \
	exec .build/release/jamplay --listen :9000 --device $$device

# Fuzzing and ThreadSanitizer first, so that the test runner's summary is the last thing printed.
# The build checks that every module imports only what Package.swift declares it depends on (so
# a logging call in the real-time module fails it: docs/ARCHITECTURE.md).
test: deps-test
	$(SWIFT) build --build-tests --explicit-target-dependency-import-check error
	$(MAKE) fuzz SECONDS=$(SECONDS)
	$(MAKE) test-tsan
	@# The suites start a JACK dummy server when none runs; one they started is stopped after them
	@# (pidof: sysvinit-utils, essential on Debian).
	@jack_was_running=$$(pidof jackd); \
	$(SWIFT) test --skip-build --skip RigTests --skip SystemTests && $(MAKE) test-rig && $(MAKE) test-system; status=$$?; \
	started=$$(pidof jackd); if [ -z "$$jack_was_running" ] && [ -n "$$started" ]; then kill $$started; fi; \
	exit $$status

# Playback on the JACK dummy rig (the tests start jackd when none runs): real-time threads and
# timing assertions, so it runs alone rather than beside the other suites.
test-rig:
	$(SWIFT) test --skip-build --filter RigTests

# The end-to-end suite (issue 7): jamsend → loopback → the jamplay binary → ALSA → JACK, heard by a
# probe client, scenario by scenario, under faults. Alone for the same reason.
test-system:
	$(SWIFT) test --skip-build --filter SystemTests

# The lock-free ring under two threads with ThreadSanitizer; any race fails the run.
test-tsan:
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path $(TSAN_BUILD)
	TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test --skip-build --sanitize=thread --scratch-path $(TSAN_BUILD) --filter FrameRingConcurrencyTests

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release --product jamplay

# The headless box: jamplay, its systemd unit and /etc/default/jamplay (kept if it exists), then
# `systemctl enable --now jamplay`. PREFIX, UNIT_DIR and DEFAULTS_DIR move them.
install: deps-run release install-files
	@if [ -d /run/systemd/system ] && [ "$(UNIT_DIR)" = /etc/systemd/system ]; then systemctl daemon-reload; fi
	@echo "installed; start it now and at boot with: systemctl enable --now jamplay (settings: $(DEFAULTS_DIR)/jamplay)"

install-files:
	install -D -m 755 $(BIN_DIR)/jamplay $(PREFIX)/bin/jamplay
	install -D -m 644 README.md $(PREFIX)/share/doc/jamplay/README.md
	install -D -m 644 docs/PROTOCOL.md $(PREFIX)/share/doc/jamplay/PROTOCOL.md
	mkdir -p $(UNIT_DIR)
	sed -e 's|/usr/local|$(PREFIX)|g' -e 's|/etc/default|$(DEFAULTS_DIR)|g' -e 's|/etc/jamplay|$(CONFIG_DIR)|g' Resources/jamplay.service > $(UNIT_DIR)/jamplay.service
	chmod 644 $(UNIT_DIR)/jamplay.service
	if [ ! -e $(DEFAULTS_DIR)/jamplay ]; then install -D -m 644 Resources/jamplay.default $(DEFAULTS_DIR)/jamplay; fi
	# The key file the unit hands over as a credential: empty (no keys) until one is added.
	if [ ! -e $(CONFIG_DIR)/keys ]; then install -d -m 700 $(CONFIG_DIR) && install -m 600 /dev/null $(CONFIG_DIR)/keys; fi

# Coverage-guided fuzzing (libFuzzer + AddressSanitizer), SECONDS each: the framer and decoder
# (WireFuzzer, from the example captures), and everything behind them (SessionFuzzer: programs of
# messages with boundary numbers through the session table, the clock chain, the rings and the
# real-time render). Each corpus starts from every input that once failed (Fuzz/regressions/);
# a failure is written to fuzz-corpus/ and fails the run. FUZZERS chooses (wire, session);
# FUZZ_JOBS > 1 runs that many processes of each at once (libFuzzer's fork mode), for long runs.
FUZZERS ?= wire session
FUZZ_JOBS ?= 1
FUZZ_RUN := SWIFT_BACKTRACE=enable=no SWIFT_DETERMINISTIC_HASHING=1
FUZZ_OPTIONS = -max_total_time=$(SECONDS) -rss_limit_mb=2048 -print_final_stats=1 $(if $(filter-out 1,$(FUZZ_JOBS)),-fork=$(FUZZ_JOBS))
fuzz:
	mkdir -p fuzz-corpus/wire fuzz-corpus/session
	if [[ " $(FUZZERS) " == *" wire "* ]]; then \
		JAMPLAY_FUZZ=1 $(SWIFT) build --scratch-path $(FUZZ_BUILD) $(FUZZ_FLAGS) --product WireFuzzer && \
		cp Resources/examples/*.jsonl Fuzz/regressions/wire/* fuzz-corpus/wire/ && \
		$(FUZZ_RUN) $(FUZZ_BUILD)/release/WireFuzzer $(FUZZ_OPTIONS) -max_len=16384 -dict=Fuzz/jamnet.dict \
			-artifact_prefix=fuzz-corpus/ fuzz-corpus/wire; \
	fi
	if [[ " $(FUZZERS) " == *" session "* ]]; then \
		JAMPLAY_FUZZ=1 $(SWIFT) build --scratch-path $(FUZZ_BUILD) $(FUZZ_FLAGS) --product SessionFuzzer && \
		cp Fuzz/regressions/session/* fuzz-corpus/session/ && \
		$(FUZZ_RUN) $(FUZZ_BUILD)/release/SessionFuzzer $(FUZZ_OPTIONS) -max_len=4096 \
			-artifact_prefix=fuzz-corpus/session- fuzz-corpus/session; \
	fi

# Decoder throughput beside Foundation's JSON parsers and simdjson on the same bytes, the clock
# engine's accuracy beside the naive method on the same simulated clocks, ingest over loopback
# beside decoding alone (and its instructions with and without --keys), the sender's render rate,
# pacing and calibration, the resampler beside libsamplerate, the whole player's instructions per
# audio second, and playback timing on the JACK rig beside aplay, with CPU beside aplay and
# zita-n2j, memory, and the smallest clean latency for live senders beside zita-njbridge's; loss
# concealment beside silence, repetition and Opus's own (BENCHMARKS.md).
bench:
	@scripts/ensure-debian-packages.sh $(BENCH_PACKAGES)
	$(SWIFT) build -c release --product WireBenchmarks
	$(SWIFT) build -c release --product ClockBenchmarks
	$(SWIFT) build -c release --product IngestBenchmarks
	$(SWIFT) build -c release --product IngestInstructions
	$(SWIFT) build -c release --product PlayerInstructions
	$(SWIFT) build -c release --product SenderBenchmarks
	$(SWIFT) build -c release --product ResamplerBenchmarks
	$(SWIFT) build -c release --product PlaybackBenchmarks
	$(SWIFT) build -c release --product ConcealmentBenchmarks
	$(SWIFT) build -c release --product jamplay
	$(SWIFT) build -c release --product jamsend
	$(SWIFT) build -c release --product RigRecorder
	$(SWIFT) build -c release --product MultiHostBenchmarks
	g++ -O3 -std=c++17 -o .build/release/simdjson_decode Benchmarks/simdjson/simdjson_decode.cpp -lsimdjson
	gcc -O2 -o .build/release/opus_conceal Benchmarks/opus/opus_conceal.c -lopus
	.build/release/WireBenchmarks .build/release/simdjson_decode
	.build/release/ClockBenchmarks
	.build/release/IngestBenchmarks
	.build/release/IngestInstructions
	.build/release/PlayerInstructions
	.build/release/SenderBenchmarks
	.build/release/ResamplerBenchmarks
	.build/release/PlaybackBenchmarks
	.build/release/ConcealmentBenchmarks .build/release/opus_conceal
	.build/release/MultiHostBenchmarks

deps-run:
	@scripts/ensure-debian-packages.sh $(RUN_PACKAGES)

deps-test:
	@scripts/ensure-debian-packages.sh $(TEST_PACKAGES)

clean:
	rm -rf .build $(FUZZ_BUILD) $(TSAN_BUILD) fuzz-corpus

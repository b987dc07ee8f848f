#!/usr/bin/env bash
# The longer fuzz run behind fuzz/REPORT.md: every cargo-fuzz target, one at a time, for
# KEZ_FUZZ_LONG_SECONDS each (default 180), then REPORT.md rewritten from the final stats.
#
#   bash fuzz/long-run.sh              # all targets (cargo fuzz list)
#   bash fuzz/long-run.sh jcs body     # some targets; the report keeps only these rows
#
# Needs nightly and cargo-fuzz (see fuzz/README.md). Runs under `nice -n 10`, one target at a
# time. Corpora grow in KEZ_FUZZ_CORPUS (default /tmp/kez-fuzz-long/<target>), never in the
# repository; seeds and regressions are read as extra corpus directories. Logs go to
# KEZ_FUZZ_LOGS (default /tmp/kez-fuzz-long/logs). A target that crashes is reported as such
# and the run goes on; the script exits non-zero if any did.
#   KEZ_FUZZ_LONG_SECONDS  seconds per target (default 180)
#   CARGO_TARGET_DIR       the fuzz build goes to $CARGO_TARGET_DIR/fuzz (default target/fuzz)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
SECONDS_EACH=${KEZ_FUZZ_LONG_SECONDS:-180}
CORPUS_ROOT=${KEZ_FUZZ_CORPUS:-/tmp/kez-fuzz-long}
LOGS=${KEZ_FUZZ_LOGS:-$CORPUS_ROOT/logs}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}/fuzz
REPORT=fuzz/REPORT.md
mkdir -p "$LOGS"

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# one build of every target (they share one crate)
if ! nice -n 10 cargo +nightly fuzz build --target-dir "$TARGET_DIR" >"$LOGS/build.log" 2>&1; then
    tail -20 "$LOGS/build.log"
    exit 1
fi

rows=()
failed=0
for t in "${targets[@]}"; do
    corpus=$CORPUS_ROOT/$t
    mkdir -p "$corpus"
    dirs=("$corpus" "fuzz/seeds/$t")
    [ -d "fuzz/regressions/$t" ] && dirs+=("fuzz/regressions/$t")
    log=$LOGS/$t.log
    echo "== $t (${SECONDS_EACH}s)"
    nice -n 10 cargo +nightly fuzz run --target-dir "$TARGET_DIR" "$t" "${dirs[@]}" -- \
        -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
        -artifact_prefix="$LOGS/$t-" >"$log" 2>&1
    rc=$?
    # the last status line: "#N  DONE  cov: C ft: F corp: K/SIZE ..." (or the last pulse)
    status=$(grep -E '^#[0-9]+' "$log" | tail -1)
    execs=$(grep -oP 'stat::number_of_executed_units:\s*\K[0-9]+' "$log" | tail -1)
    rate=$(grep -oP 'stat::average_exec_per_sec:\s*\K[0-9]+' "$log" | tail -1)
    cov=$(grep -oP 'cov: \K[0-9]+' <<<"$status")
    ft=$(grep -oP 'ft: \K[0-9]+' <<<"$status")
    corp=$(grep -oP 'corp: \K[0-9]+/[0-9]+[a-zA-Z]*' <<<"$status")
    if [ "$rc" -eq 0 ]; then
        result="no crash"
    else
        result="**crash** (exit $rc; see the log)"
        failed=1
    fi
    echo "   ${execs:-?} runs, ${rate:-?}/s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}: $result"
    rows+=("| \`$t\` | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | $result |")
done

commit_of() { git log --format=%h -1 --grep="$1" 2>/dev/null; }
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //')
{
    echo "# Fuzz report: longer run"
    echo
    echo "Written by \`bash fuzz/long-run.sh\` (re-run it to regenerate this file). Each target ran"
    echo "alone for ${SECONDS_EACH} s under \`nice -n 10\`, from its committed seeds and regressions"
    echo "plus a scratch corpus (not committed), with \`-print_final_stats=1\`."
    echo
    echo "- date: $(date -u +%Y-%m-%d) (UTC)"
    echo "- commit: $(git rev-parse --short HEAD 2>/dev/null)"
    echo "- machine: $(uname -sm), ${cpu:-unknown CPU}, $(nproc) cores shared with other work"
    echo "- toolchain: $(cargo +nightly --version 2>/dev/null), $(cargo fuzz --version 2>/dev/null)"
    echo
    echo "Columns: executions and exec/s from libFuzzer's final stats; cov (edges) and ft"
    echo "(features) from its last status line; corpus = inputs/bytes at the end, scratch corpus"
    echo "and seeds together. A scratch corpus that already existed makes cov start higher."
    echo
    echo "| target | executions | exec/s | cov | ft | corpus | result |"
    echo "| --- | ---: | ---: | ---: | ---: | --- | --- |"
    printf '%s\n' "${rows[@]}"
    echo
    echo "## Crashes found and fixed"
    echo
    echo "Every one has its input under \`fuzz/regressions/<target>/\`, replayed by \`cargo test\`"
    echo "(\`core/tests/fuzz_regressions.rs\`; kez-nostr's targets: \`std-adapters/nostr/tests/fuzz_seeds.rs\`)."
    echo
    echo "| target | input | what was wrong | fix |"
    echo "| --- | --- | --- | --- |"
    echo "| \`body\` | \`resend-spaced-array.json\` | resend requests compared by the array's text (spacing), not its indices | $(commit_of 'resend requests compare by their indices') |"
    echo "| \`compact_zstd\` | \`huffman-stream-shares-differ.zst\` | an invalid frame (Huffman streams of 345/346/345/344 symbols where 345 each are due) decoded by ruzstd and libzstd to different bytes; kez now checks each stream's share (\`fuzz/README.md\`) | $(commit_of 'refuse Huffman literal streams') |"
    echo
    echo "The differential targets found no other disagreement: \`jcs_diff\` (kez's JCS against"
    echo "serde_json's value model) none since it was added, \`compact_zstd\` none after the fix"
    echo "above. Both are also in \`.ci/run\`'s smoke run."
} >"$REPORT"
echo "wrote $REPORT"
exit "$failed"

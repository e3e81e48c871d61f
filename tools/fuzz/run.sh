#!/bin/sh
# tools/fuzz/run.sh - `make fuzz`: builds the library and every libFuzzer
# target in tools/fuzz/ with clang (libFuzzer + ASan + UBSan) into
# build/fuzz/, then runs each for SECONDS from its seed corpus
# (tests/fuzz/corpus/<target>/, copied so runs do not grow the repo).
# Crashes land in build/fuzz/crashes/<target>/; exits 1 if any.
#
# usage: tools/fuzz/run.sh SECONDS SANFLAGS
set -eu

SECS=${1:-30}
SAN=$2
B=build/fuzz

. tools/bench/need.sh
need clang clang
# libFuzzer's runtime lives in compiler-rt
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n){return 0;}' |
    clang -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
    v=$(clang --version | sed -n 's/.*version \([0-9]*\).*/\1/p' | head -1)
    need_pkg "libclang-rt-$v-dev"
fi

make --no-print-directory B=$B CC=clang SANFLAGS="$SAN" $B/libvmsnapd.a
CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O1 -g -I. \
  -Wall -Wextra -Werror -Wmissing-prototypes \
  $(pkg-config --cflags jansson libmicrohttpd gnutls)"
LIBS="$(pkg-config --libs libmicrohttpd gnutls jansson yajl yaml-0.1 \
  openssl libcurl) -lpthread -lm"
SANLINK=$(echo "$SAN" | sed 's/fuzzer-no-link/fuzzer/')

status=0
summary=""
for src in tools/fuzz/*.c; do
    t=$(basename "$src" .c)
    # shellcheck disable=SC2086
    clang $CFLAGS $SANLINK -o "$B/fuzz-$t" "$src" "$B/libvmsnapd.a" $LIBS
    rm -rf "$B/corpus/$t"
    mkdir -p "$B/corpus/$t" "$B/crashes/$t"
    cp tests/fuzz/corpus/"$t"/* "$B/corpus/$t/" 2>/dev/null || true
    echo "fuzz: $t for ${SECS}s"
    if ASAN_OPTIONS=detect_leaks=1 "$B/fuzz-$t" -max_total_time="$SECS" \
        -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$B/crashes/$t/" "$B/corpus/$t" \
        >"$B/$t.log" 2>&1; then
        result=ok
    else
        result="CRASH (see $B/$t.log, $B/crashes/$t/)"
        status=1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/$t.log")
    summary="$summary$(printf '%-12s %10s executions  %s' "$t" "${execs:-?}" "$result")
"
done
printf '\n%s' "$summary"
exit $status

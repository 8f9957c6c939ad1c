#!/usr/bin/env bash
# run_all.sh -- the whole `make test`: C unit tests, the same under ASan+UBSan,
# pg_regress and cluster tests on one throwaway cluster. Ends with the line
# "N passed, N failed" summed over every suite; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
. test/lib/cluster.sh

export PLLM_COUNTS
PLLM_COUNTS=$(mktemp)

echo "== unit tests"
test/run_unit.sh build/test/test_*
echo "== unit tests under ASan+UBSan"
PLLM_SUITE="unit under ASan+UBSan" ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1 test/run_unit.sh build/asan/test/test_*

echo "== CLI tests"
out=$(test/cli/cli_tests.sh 2>&1)
echo "$out"
echo "$(echo "$out" | grep -c '^ok - ') $(echo "$out" | grep -c '^not ok - ')" >>"$PLLM_COUNTS"

echo "== cluster: pg_regress and cluster tests"
if cluster_start; then
	test/run_regress.sh
	for t in test/cluster/*.sh; do
		[ -e "$t" ] || continue
		out=$(bash "$t" 2>&1)
		rc=$?
		echo "$out" | sed "s|^|[$(basename "$t")] |"
		p=$(echo "$out" | grep -c '^ok - ')
		f=$(echo "$out" | grep -c '^not ok - ')
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		echo "$p $f" >>"$PLLM_COUNTS"
	done
	cluster_stop
else
	echo "not ok - could not start the test cluster"
	echo "0 1" >>"$PLLM_COUNTS"
fi

read -r pass fail < <(awk '{p += $1; f += $2} END {print p + 0, f + 0}' "$PLLM_COUNTS")
rm -f "$PLLM_COUNTS"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]

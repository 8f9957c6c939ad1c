#!/usr/bin/env bash
# run_unit.sh BIN... -- run C unit-test binaries from the repository root, echo
# their "ok"/"not ok" lines, count a crash or timeout as a failure, and append
# "passed failed" to $PLLM_COUNTS when set. Exit status: non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0
for bin in "$@"; do
	case "$bin" in *.d|*.o) continue ;; esac
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	log=$(mktemp)
	timeout 300 "$bin" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok - ' "$log")
	f=$(grep -c '^not ok - ' "$log")
	if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
		grep -v '^ok - ' "$log" | sed "s|^|[$name] |"
		if [ "$f" -eq 0 ]; then
			echo "not ok - $name exited with status $rc"
			f=1
		fi
	fi
	grep '^ok - ' "$log" | sed "s|^ok - |ok - $name: |"
	pass=$((pass + p)); fail=$((fail + f))
	rm -f "$log"
done
echo "# ${PLLM_SUITE:-unit}: $pass passed, $fail failed"
[ -n "${PLLM_COUNTS:-}" ] && echo "$pass $fail" >>"$PLLM_COUNTS"
[ "$fail" -eq 0 ]

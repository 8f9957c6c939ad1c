#!/usr/bin/env bash
# run_regress.sh -- pg_regress (sql/*.sql vs expected/*.out) against the running
# throwaway cluster (PGHOST/PGPORT set by cluster_start). Prints the diffs of
# failing tests and appends "passed failed" to $PLLM_COUNTS.
set -u
cd "$(dirname "$0")/.."
. test/lib/cluster.sh

tests=$(ls sql/*.sql 2>/dev/null | sed 's|sql/||; s|\.sql$||' | sort)
[ -n "$tests" ] || { echo "no regress tests found" >&2; exit 1; }
work=$(mktemp -d /tmp/pg_llm_regress.XXXXXX)
cp -r sql expected "$work/"
mkdir -p "$work/out"
[ -d test/data/regress ] && cp -r test/data/regress "$work/data"
chmod -R a+rwX "$work"
pg_regress="$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress"

out=$(cd "$work" && as_owner "$pg_regress" --inputdir="$work" --outputdir="$work/out" \
	--bindir="$PGBIN" --host="$PGHOST" --port="$PGPORT" --user=postgres \
	--dbname=contrib_regression $tests 2>&1)
echo "$out" | grep -E '^(test| ) |\.\.\.|^ok|^not ok' | sed 's/^/# regress: /'
pass=$(echo "$out" | grep -cE '\.\.\. ok|^ok ')
fail=$(echo "$out" | grep -cE '\.\.\. FAILED|^not ok|failed \(ignored\)')
if [ -f "$work/out/regression.diffs" ] && [ "$fail" -gt 0 ]; then
	cat "$work/out/regression.diffs"
fi
if [ "$pass" -eq 0 ] && [ "$fail" -eq 0 ]; then
	echo "$out"
	fail=1
fi
rm -rf "$work"
echo "# regress: $pass passed, $fail failed"
[ -n "${PLLM_COUNTS:-}" ] && echo "$pass $fail" >>"$PLLM_COUNTS"
[ "$fail" -eq 0 ]

# helpers.bash -- sourced by the cluster tests in this directory (not a test
# itself: run_all.sh runs *.sh). Each test prints "ok - ..." / "not ok - ...".
. "$(dirname "${BASH_SOURCE[0]}")/../lib/cluster.sh"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STORIES=$REPO/test/data/models/stories260K.gguf
[ -f "$STORIES" ] || STORIES=$REPO/test/data/regress/stories260K.gguf

ok()    { echo "ok - $1"; }
notok() { echo "not ok - $1"; [ $# -gt 1 ] && echo "# $2"; return 0; }
# check DESC COMMAND...: ok when the command succeeds
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else notok "$d"; fi; }
# is DESC GOT WANT
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "got [$2] want [$3]"; fi
}

# psql against $PGHOST/$PGPORT: unaligned, tuples only, quiet
q() { "$PGBIN/psql" -X -A -t -q "$@"; }

# Copy a model file into the running cluster's pg_llm.model_dir.
add_model() {
	local dir
	dir=$(q -c "SHOW pg_llm.model_dir")
	cp "$1" "$dir/"
	[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir/$(basename "$1")"
	return 0
}

# Pss and Rss (kB) of the mappings of process $1 whose smaps header line
# matches the extended regex $2 and whose size is $3 kB: prints
# "pss_sum n_mappings rss_sum". Pss divides each resident page among the
# processes that map it, so summed over processes it counts a shared page once.
pss_kb() {
	awk -v pat="$2" -v want="$3" '
		/^[0-9a-f]+-[0-9a-f]+ / { inmap = ($0 ~ pat); sized = 0; next }
		inmap && /^Size:/ { sized = ($2 == want); if (sized) n++; next }
		inmap && sized && /^Rss:/ { rss += $2; next }
		inmap && sized && /^Pss:/ { sum += $2 }
		END { printf "%d %d %d\n", sum, n, rss }' "/proc/$1/smaps"
}

# Resident memory (kB) of process $1.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

now_ms() { date +%s%3N; }

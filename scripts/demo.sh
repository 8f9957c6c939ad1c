#!/usr/bin/env bash
# demo.sh -- `make demo`: start a throwaway cluster with pg_llm preloaded, run
# the example queries of the README and show their output, then stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib/cluster.sh

cluster_start
demo_model=test/data/models/stories260K.gguf
[ -f "$demo_model" ] && cluster_add_model "$demo_model"

run() {
	echo
	echo "pg_llm=# $1"
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -c "$1"
}

run "CREATE EXTENSION pg_llm;"
run "SELECT llm.version();"
cluster_stop
echo
echo "demo finished; the throwaway cluster has been removed"

# cluster.sh -- sourced by the test and demo scripts: a throwaway PostgreSQL
# cluster in a temp directory, owned by the `postgres` user when we are root
# (initdb and postgres refuse to run as root), on a free port, with pg_llm
# preloaded. cluster_start installs a trap that always stops and removes it.

PG_CONFIG=${PG_CONFIG:-pg_config}
PGBIN=$("$PG_CONFIG" --bindir)
CLUSTER_DIR=""
CLUSTER_PORT=""
CLUSTER_CLEANUP=()   # more paths for the exit trap to remove

# Run a command as the cluster owner.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

cluster_free_port() {
	local port
	for _ in $(seq 1 200); do
		port=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
		   [ ! -e "/tmp/.s.PGSQL.$port" ]; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

cluster_stop() {
	[ -n "$CLUSTER_DIR" ] || return 0
	if [ -f "$CLUSTER_DIR/data/postmaster.pid" ]; then
		as_owner "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
		local pid
		pid=$(head -n1 "$CLUSTER_DIR/data/postmaster.pid" 2>/dev/null || true)
		[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
	fi
	rm -rf "$CLUSTER_DIR"
	CLUSTER_DIR=""
}

# cluster_start [extra postgresql.conf lines...]
cluster_start() {
	CLUSTER_DIR=$(mktemp -d /tmp/pg_llm_cluster.XXXXXX)
	trap 'cluster_stop; rm -rf "${CLUSTER_CLEANUP[@]}"' EXIT
	trap 'cluster_stop; rm -rf "${CLUSTER_CLEANUP[@]}"; exit 130' INT TERM
	chmod 755 "$CLUSTER_DIR"
	mkdir -p "$CLUSTER_DIR/models"
	[ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$CLUSTER_DIR"
	CLUSTER_PORT=$(cluster_free_port) || { echo "no free port" >&2; return 1; }
	as_owner "$PGBIN/initdb" -D "$CLUSTER_DIR/data" -U postgres -A trust \
		--no-sync -E UTF8 --locale=C >"$CLUSTER_DIR/initdb.log" 2>&1 ||
		{ cat "$CLUSTER_DIR/initdb.log" >&2; return 1; }
	{
		echo "port = $CLUSTER_PORT"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$CLUSTER_DIR'"
		echo "shared_preload_libraries = 'pg_llm'"
		echo "fsync = off"
		echo "max_connections = 40"
		echo "pg_llm.model_dir = '$CLUSTER_DIR/models'"
		for line in "$@"; do echo "$line"; done
	} | as_owner tee -a "$CLUSTER_DIR/data/postgresql.conf" >/dev/null
	as_owner "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w start >/dev/null ||
		{ cat "$CLUSTER_DIR/server.log" >&2; return 1; }
	export PGHOST="$CLUSTER_DIR" PGPORT="$CLUSTER_PORT" PGUSER=postgres PGDATABASE=postgres
}

# Copy a model file into the cluster's pg_llm.model_dir.
cluster_add_model() {
	cp "$1" "$CLUSTER_DIR/models/"
	[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$CLUSTER_DIR/models/$(basename "$1")"
	return 0
}

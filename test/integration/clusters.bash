# clusters.bash - throwaway PostgreSQL clusters a script starts for itself
# (not a test: .ci/test runs only *.sh).  Sourced after .ci/lib.sh (PG_BIN,
# as_pg_owner) by the scale-out tests and test/bench/shards_bench.sh.  Each
# cluster has its own data directory under one temporary directory ($top),
# listens on loopback TCP and on a Unix socket in its directory, and runs as
# the postgres user when the script runs as root.
#
#   clusters_start BASE_PORT NAME...  initdb and start NAME... on BASE_PORT, +1, ...
#                                     (extra server options: $cluster_options)
#   on NAME psql-arguments...         psql on NAME as postgres, unaligned, in
#                                     database ${database[NAME]:-postgres}
#   cluster_stop NAME                 stop NAME at once (-m immediate)
#   clusters_stop                     stop them all, remove $top (the EXIT trap)

declare -A port dir database
cluster_names=()
cluster_options=${cluster_options:-}
top=

clusters_stop() {
	local n
	for n in "${cluster_names[@]+"${cluster_names[@]}"}"; do
		[ -d "$top/$n/data" ] && as_pg_owner "$PG_BIN/pg_ctl" -D "$top/$n/data" -m immediate -w stop >/dev/null 2>&1
	done
	[ -n "$top" ] && rm -rf "$top"
}

cluster_stop() { as_pg_owner "$PG_BIN/pg_ctl" -D "${dir[$1]}/data" -m immediate -w stop >/dev/null 2>&1; }

# Prints "not ok" lines itself and returns non-zero when a cluster does not start.
clusters_start() {
	local base=$1 i=0 n
	shift
	top=$(mktemp -d /tmp/ecgdl-clusters.XXXXXX)
	chmod 755 "$top"
	[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$top"
	trap clusters_stop EXIT
	for n; do
		cluster_names+=("$n")
		port[$n]=$((base + i))
		dir[$n]=$top/$n
		i=$((i + 1))
		as_pg_owner mkdir -p "${dir[$n]}"
		as_pg_owner "$PG_BIN/initdb" -D "${dir[$n]}/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >/dev/null ||
			{ not_ok "initdb $n"; return 1; }
		as_pg_owner "$PG_BIN/pg_ctl" -D "${dir[$n]}/data" -l "${dir[$n]}/server.log" -w \
			-o "-k ${dir[$n]} -p ${port[$n]} -c listen_addresses=127.0.0.1 -c fsync=off $cluster_options" start >/dev/null ||
			{ not_ok "start $n on port ${port[$n]}"; cat "${dir[$n]}/server.log" >&2; return 1; }
	done
}

on() {
	local n=$1
	shift
	psql -X -q -At -v ON_ERROR_STOP=1 -h "${dir[$n]}" -p "${port[$n]}" -U postgres -d "${database[$n]:-postgres}" "$@"
}

# A shell command (for psql's \!, which runs sh) printing the bytes the
# connections to these clusters' TCP ports have received so far: the kernel's
# counters (ss -ti) of the connections still open
bytes_received_cmd() {
	local filter="" n
	for n; do filter+="${filter:+ or }dport = :${port[$n]}"; done
	echo "ss -tinH state established '( $filter )' | grep -o 'bytes_received:[0-9]*' | awk -F: '{ s += \$2 } END { print s + 0 }'"
}

# coord_bytes_for OPENING STATEMENT SHARD...: prints the bytes the connections
# of cluster "coord" to the given shards receive for the SQL on standard input,
# in one session after OPENING STATEMENT (which opens those connections, so
# their set-up is not counted); files under $top
coord_bytes_for() {
	local opening=$1 received
	shift
	received=$(bytes_received_cmd "$@")
	on coord <<SQL
\\o /dev/null
$opening;
\\! $received >$top/bytes_before
$(cat);
\\! $received >$top/bytes_after
SQL
	echo $(( $(cat "$top/bytes_after") - $(cat "$top/bytes_before") ))
}

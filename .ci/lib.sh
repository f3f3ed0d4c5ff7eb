# lib.sh - shared set-up for the two top-level commands (.ci/test and .ci/study):
# install what is missing (Debian 12), build and install the extension, and run
# a throwaway PostgreSQL 15 cluster that is stopped again on exit.
# Sourced, not run.

ECGDL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# ECGDL_PG_BIN: another PostgreSQL 15 bin directory (a relocated copy of the
# server, so that several work trees can build, install and test side by side).
PG_BIN=${ECGDL_PG_BIN:-/usr/lib/postgresql/15/bin}
export PATH="$PG_BIN:$PATH"

log() { printf '== %s\n' "$*" >&2; }

# In CI (CI=true, as CI services set it) every compiler warning is an error.
if [ "${CI:-}" = true ]; then
	export WERROR=1
fi

# Debian packages each command needs; extra ones are passed as arguments.
ecgdl_install_packages() {
	local wanted=(postgresql-15 postgresql-server-dev-15 libopenblas-dev make gcc "$@")
	local missing=()
	for p in "${wanted[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		log "missing packages: ${missing[*]} (run as root, or install them first)"
		return 1
	fi
	log "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ecgdl_build_install() {
	log "building and installing the extension"
	make -C "$ECGDL_ROOT" -s -j2 PG_CONFIG="$PG_BIN/pg_config" >/dev/null
	make -C "$ECGDL_ROOT" -s install PG_CONFIG="$PG_BIN/pg_config" >/dev/null
	# bitcode an older build may have installed would be inlined by the JIT
	local libdir
	libdir=$("$PG_BIN/pg_config" --pkglibdir)
	rm -rf "$libdir/bitcode/ecgdl" "$libdir/bitcode/ecgdl.index.bc" 2>/dev/null || true
}

# The MIT-BIH records: $ECGDL_MITDB, then ../shared/data/mitdb beside the
# repository.  Prints the directory, or nothing when neither exists.
ecgdl_find_mitdb() {
	local d
	for d in "${ECGDL_MITDB:-}" "$ECGDL_ROOT/../shared/data/mitdb"; do
		if [ -n "$d" ] && [ -f "$d/RECORDS" ]; then
			(cd "$d" && pwd)
			return 0
		fi
	done
	return 0
}

# Runs a command as the server's owner: postgres when we are root.
as_pg_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Starts a throwaway cluster listening only on a Unix socket in its own
# directory; sets PGHOST, PGPORT, PGUSER, PGDATABASE and ECGDL_PGDATA.
ecgdl_start_cluster() {
	ECGDL_PGDATA=$(mktemp -d /tmp/ecgdl-pg.XXXXXX)
	chmod 755 "$ECGDL_PGDATA"
	[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$ECGDL_PGDATA"
	as_pg_owner "$PG_BIN/initdb" -D "$ECGDL_PGDATA/data" -U postgres --auth=trust \
		--no-sync -E UTF8 --locale=C >/dev/null
	export PGHOST="$ECGDL_PGDATA" PGPORT=${ECGDL_PGPORT:-54329} PGUSER=postgres PGDATABASE=postgres
	as_pg_owner "$PG_BIN/pg_ctl" -D "$ECGDL_PGDATA/data" -l "$ECGDL_PGDATA/server.log" -w \
		-o "-k $ECGDL_PGDATA -p $PGPORT -c listen_addresses='' -c fsync=off -c max_parallel_workers_per_gather=2 -c shared_preload_libraries=ecgdl" \
		start >/dev/null
	trap ecgdl_stop_cluster EXIT
	log "throwaway cluster running in $ECGDL_PGDATA"
}

ecgdl_stop_cluster() {
	if [ -n "${ECGDL_PGDATA:-}" ] && [ -d "$ECGDL_PGDATA/data" ]; then
		as_pg_owner "$PG_BIN/pg_ctl" -D "$ECGDL_PGDATA/data" -m fast -w stop >/dev/null 2>&1 || true
		# backends the crash-recovery test killed on purpose end with signal 9
		if grep "terminated by signal" "$ECGDL_PGDATA/server.log" 2>/dev/null | grep -qv "signal 9: Killed"; then
			log "the server log shows a crashed backend:"
			grep "terminated by signal" "$ECGDL_PGDATA/server.log" | grep -v "signal 9: Killed" >&2
		fi
		rm -rf "$ECGDL_PGDATA"
	fi
}

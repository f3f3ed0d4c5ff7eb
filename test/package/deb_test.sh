#!/usr/bin/env bash
# deb_test.sh - the Debian package, end to end (issue 16, point 1):
#   1. builds postgresql-15-ecgdl_<version>_<arch>.deb from a copy of the work
#      tree with Debian's PostgreSQL tooling (dpkg-buildpackage, debhelper's
#      pgxs sequence, pg_buildext);
#   2. checks its contents (the library, the control file, every SQL script,
#      no JIT bitcode), that it was built portable (no -march=native) and
#      that its kernels are chosen at run time (ifunc relocations);
#   3. installs it with `apt-get install ./<deb>` into the system PostgreSQL 15;
#   4. starts a throwaway cluster of that server, runs CREATE EXTENSION ecgdl
#      and a smoke query (trains a tiny model on synthetic beats, classifies);
#   5. removes the package with apt-get purge and checks that none of its
#      files is left behind.
# Prints "ok - ..." / "not ok - ..." lines.  Needs root (apt-get), and the
# build tools: apt-get install debhelper postgresql-server-dev-all libopenblas-dev.
#
# The system PostgreSQL is left as it was found: ecgdl files a `make install`
# put there before (not owned by any package) are saved and put back.
# ECGDL_DEB_KEEP=DIR keeps the built .deb in DIR.  ECGDL_PKG_PGPORT (default
# 54399) is the throwaway cluster's port.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/test/integration/common.bash"

pg_bin=/usr/lib/postgresql/15/bin
pkg=postgresql-15-ecgdl
port=${ECGDL_PKG_PGPORT:-54399}
work=$(mktemp -d /tmp/ecgdl-deb.XXXXXX)
chmod 755 "$work"
saved="$work/saved"
pgdata=""

if [ "$(id -u)" -ne 0 ]; then
	not_ok "the package test needs root (apt-get install / purge)"
	exit 1
fi
for p in debhelper postgresql-server-dev-all libopenblas-dev dpkg-dev; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		echo "== installing $p" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null 2>&1 ||
			{ not_ok "install build dependency $p"; exit 1; }
	fi
done

# ecgdl files of the system server that belong to no package (a source install)
libdir=$("$pg_bin/pg_config" --pkglibdir)
sharedir=$("$pg_bin/pg_config" --sharedir)/extension
system_files() { ls -d "$libdir"/ecgdl.so "$sharedir"/ecgdl.control "$sharedir"/ecgdl--*.sql 2>/dev/null; }
restore_system() {
	if [ -d "$saved" ]; then
		cp -a "$saved/lib/." "$libdir/" 2>/dev/null
		cp -a "$saved/ext/." "$sharedir/" 2>/dev/null
	fi
}
cleanup() {
	if [ -n "$pgdata" ] && [ -d "$pgdata/data" ]; then
		runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pgdata/data" -m fast -w stop >/dev/null 2>&1
	fi
	if dpkg-query -W -f='${Status}' $pkg 2>/dev/null | grep -q 'installed'; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $pkg >/dev/null 2>&1
	fi
	restore_system
	rm -rf "$work"
}
trap cleanup EXIT

if dpkg-query -W -f='${Status}' $pkg 2>/dev/null | grep -q 'installed'; then
	not_ok "$pkg is already installed on this machine: not touching it"
	exit 1
fi
mkdir -p "$saved/lib" "$saved/ext"
for f in $(system_files); do
	case $f in
		*.so) cp -a "$f" "$saved/lib/" ;;
		*) cp -a "$f" "$saved/ext/" ;;
	esac
done

# 1. build from a clean copy of the tree (tracked and new files, nothing built)
version=$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)
src="$work/ecgdl-${version%-*}"
mkdir -p "$src"
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
	xargs -0 -I{} cp --parents -a {} "$src/") 2>/dev/null
# the core's unit tests run in the test command already; DEB_BUILD_OPTIONS=
# "" runs them inside the package build too
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS-nocheck parallel=2}
(cd "$src" && dpkg-buildpackage -b -us -uc) >"$work/build.log" 2>&1
status=$?
arch=$(dpkg --print-architecture)
deb="$work/${pkg}_${version}_${arch}.deb"
if [ $status -ne 0 ] || [ ! -f "$deb" ]; then
	tail -n 40 "$work/build.log" >&2
	not_ok "dpkg-buildpackage builds ${pkg}_${version}_${arch}.deb"
	exit 1
fi
ok "dpkg-buildpackage builds ${pkg}_${version}_${arch}.deb"
[ -n "${ECGDL_DEB_KEEP:-}" ] && cp "$deb" "$ECGDL_DEB_KEEP/"

# 2. contents and flags
contents=$(dpkg-deb -c "$deb" | awk '{print $NF}')
want="./usr/lib/postgresql/15/lib/ecgdl.so ./usr/share/postgresql/15/extension/ecgdl.control"
for f in "$root"/sql/ecgdl--*.sql; do want+=" ./usr/share/postgresql/15/extension/$(basename "$f")"; done
missing=""
for f in $want; do grep -qxF "$f" <<<"$contents" || missing+=" $f"; done
check "the package holds the library, the control file and every SQL script" "" "$missing"
check "the package holds no JIT bitcode" "0" "$(grep -c bitcode <<<"$contents")"
check "the package is built portable (no -march=native in the build)" "0" \
	"$(grep -c -- '-march=native' "$work/build.log")"
# the kernels' AVX-512 / AVX2 / baseline versions are chosen by ifunc
# resolvers when the library is loaded: IRELATIVE relocations
# (read into a file first: `readelf | grep -q` under pipefail fails whenever
# grep stops reading before readelf has written everything - SIGPIPE)
dpkg-deb -x "$deb" "$work/unpacked"
readelf -W -r "$work/unpacked/usr/lib/postgresql/15/lib/ecgdl.so" >"$work/relocations.txt"
check "the library chooses its kernels at run time (ifunc relocations)" "yes" \
	"$(grep -q R_X86_64_IRELATIVE "$work/relocations.txt" && echo yes)"
check "the package depends on PostgreSQL 15 and OpenBLAS" "yes" \
	"$(dpkg-deb -f "$deb" Depends | grep -q 'postgresql-15' && dpkg-deb -f "$deb" Depends | grep -q 'openblas' && echo yes)"

# 3. install
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$work/install.log" 2>&1
check "apt-get install ./$(basename "$deb") succeeds" "0" "$?"

# 4. a throwaway cluster of the system server
pgdata="$work/pg"
mkdir -p "$pgdata" && chown postgres:postgres "$pgdata"
runuser -u postgres -- "$pg_bin/initdb" -D "$pgdata/data" -U postgres --auth=trust --no-sync \
	-E UTF8 --locale=C >/dev/null 2>&1
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pgdata/data" -l "$pgdata/server.log" -w \
	-o "-k $pgdata -p $port -c listen_addresses='' -c shared_preload_libraries=ecgdl" start >/dev/null 2>&1
export PGHOST=$pgdata PGPORT=$port PGUSER=postgres
db=postgres
check "CREATE EXTENSION ecgdl installs the default version" \
	"$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$root/ecgdl.control")" \
	"$(run -c "SET client_min_messages = warning" -c "CREATE EXTENSION ecgdl" \
		-c "SELECT extversion FROM pg_extension WHERE extname = 'ecgdl'" 2>&1)"
out=$(run 2>&1 <<SQL
SET client_min_messages = warning;
$(beats_sql 200)
SELECT ecg_train('smoke', 'beats', 'baseline', epochs => 2, batch_size => 32, seed => 1) > 0;
SELECT count(*) FROM beats WHERE ecg_classify('smoke', signal) BETWEEN 0 AND 4;
SELECT count(*) FROM ecg_evaluate('smoke', 'beats');
SQL
)
check "smoke query: train a tiny model on synthetic beats and classify them" "t|200|8" \
	"$(paste -sd'|' <<<"$out")"
# the packaged library preloaded: a background job runs to its end
out=$(run 2>&1 <<'SQL'
SET client_min_messages = warning;
SELECT ecg_train_async('smoke_job', 'beats', 'baseline', epochs => 2, batch_size => 32, seed => 1) AS job \gset
DO $$
BEGIN
    FOR i IN 1..300 LOOP
        EXIT WHEN (SELECT state FROM ecgdl.jobs WHERE model = 'smoke_job') IN ('done', 'failed', 'cancelled');
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT state FROM ecgdl.jobs WHERE id = :job;
SELECT md5(ecg_model_export('smoke_job')) = md5(ecg_model_export('smoke'));
SQL
)
check "background job (shared_preload_libraries = 'ecgdl'): trains the same model" "done|t" \
	"$(paste -sd'|' <<<"$out")"
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pgdata/data" -m fast -w stop >/dev/null 2>&1
check "no backend crashed" "0" "$(grep -c 'terminated by signal' "$pgdata/server.log")"
pgdata=""

# 5. remove
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $pkg >"$work/purge.log" 2>&1
check "apt-get purge $pkg succeeds" "0" "$?"
check "no ecgdl file is left in the system PostgreSQL" "" "$(system_files)"

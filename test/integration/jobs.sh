#!/usr/bin/env bash
# Background jobs (issue 14): a training runs in a background worker while a
# second session watches its epochs in ecgdl.jobs; it is cancelled (the
# latency is measured), resumed, killed with SIGKILL, resumed, interrupted by
# a server restart, resumed again, and must end with the bytes of an
# uninterrupted run of the same seed; more jobs than ecgdl.max_jobs wait and
# run one after the other in order; another role's cancel is refused unless it
# has pg_signal_backend.
#
# Needs a running server with ecgdl in shared_preload_libraries (as .ci/test
# starts it; the script skips itself without), a superuser (PGHOST, PGPORT,
# PGUSER), and, for the kill and restart parts, the right to signal and
# restart the server (root or its owner) and no other client sessions (a
# SIGKILL resets every session; those parts are skipped otherwise).  The PID
# killed is appended to $ECGDL_KILLED_PIDS, as crash_recovery.sh does.
set -uo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/../../.ci/lib.sh"

db=${ECGDL_TEST_DB_PREFIX:-ecgdl}_jobs
roles="ecgdl_jobs_alice ecgdl_jobs_bob"

plain=""	# the cluster without shared_preload_libraries (part 10)
cleanup() {
	if [ -n "$plain" ]; then
		as_pg_owner "$PG_BIN/pg_ctl" -D "$plain/data" -m immediate -w stop >/dev/null 2>&1
		rm -rf "$plain"
	fi
	wait_for_server >/dev/null 2>&1
	psql -X -q -d postgres -c "ALTER SYSTEM RESET ecgdl.max_jobs" -c "SELECT pg_catalog.pg_reload_conf()" >/dev/null 2>&1
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
	for r in $roles; do psql -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done
}
trap cleanup EXIT

preloaded=$(psql -X -At -d postgres -c "SELECT 'ecgdl' = ANY (pg_catalog.string_to_array(
	pg_catalog.replace(pg_catalog.current_setting('shared_preload_libraries'), ' ', ''), ','))")
if [ "$preloaded" != t ]; then
	echo "ok - background jobs # SKIP: ecgdl is not in shared_preload_libraries"
	echo "background jobs skipped: the server was started without shared_preload_libraries = 'ecgdl'" >&2
	exit 0
fi

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null || {
	not_ok "create database $db"; exit 1; }
for r in $roles; do psql -X -q -d postgres -c "DROP ROLE IF EXISTS $r" -c "CREATE ROLE $r LOGIN" >/dev/null; done

# the server log's length now: the worker's lines of this run come after it
log_start=$(stat -c %s "$(dirname "$(psql -X -At -d postgres -c "SHOW data_directory")")/server.log" 2>/dev/null || echo 0)

# slow: 3,000 beats, on which a cnn epoch takes about a second
make_test_beats && run >/dev/null <<'SQL' || { not_ok "set up the tables"; exit 1; }
CREATE TABLE slow AS SELECT * FROM big WHERE id % 20 = 0;
ALTER TABLE slow ADD PRIMARY KEY (id);
GRANT SELECT ON slow, shapes TO PUBLIC;
SQL

# watch_sessions PID KIND: while the client PID runs, the distinct
# "step/steps model epoch/epochs" of the synchronous KIND rows in ecgdl.jobs
watch_sessions() {
	local seen="" row
	while kill -0 "$1" 2>/dev/null; do
		row=$(run -c "SELECT COALESCE(step || '/' || steps || ' ', '') || COALESCE(model, '-') || ' '
		                     || COALESCE(epoch || '/' || epochs, '-')
		              FROM ecgdl.jobs WHERE id IS NULL AND kind = '$2'" 2>/dev/null | head -n 1)
		[ -n "$row" ] && case "$seen" in *"[$row]"*) ;; *) seen="$seen[$row]" ;; esac
		sleep 0.05
	done
	echo "$seen"
}

# the training every interrupted job must reproduce, synchronous, watched
# from another session
train_args="'slow', 'cnn', epochs => 8, batch_size => 128, seed => 5"
t0=$(now_ms)
run -c "SET client_min_messages = warning" -c "SELECT ecg_train('reference', $train_args)" >/dev/null &
client=$!
seen=$(watch_sessions "$client" train)
wait "$client" || { not_ok "the uninterrupted training"; exit 1; }
figure "uninterrupted cnn training of 8 epochs on 3,000 beats: $(( $(now_ms) - t0 )) ms; seen in ecgdl.jobs: $seen"
check "a synchronous ecg_train shows its epochs in ecgdl.jobs (id NULL) while it runs (two or more seen)" t \
	"$( [ "$(grep -o '\[reference [1-8]/8\]' <<<"$seen" | sort -u | wc -l)" -ge 2 ] && echo t)"
check "and no more once it has ended" 0 "$(run -c "SELECT count(*) FROM ecgdl.jobs WHERE id IS NULL")"
reference=$(run -c "SELECT md5(ecg_model_export('reference'))")

# job_field ID COLUMN: a column of the job in ecgdl.jobs, read by a new session
job_field() { run -c "SELECT $2 FROM ecgdl.jobs WHERE id = $1"; }
# The epochs held by job $1's checkpoint file, read once its worker is gone (the
# file's header: 8 magic bytes, the model name's length and the name, then the
# core checkpoint with its epoch count at byte 16); the view's epoch where the
# file cannot be read.  A worker may finish one more epoch between a look at
# the view and its end, so the file says where a resume must go on from.
checkpoint_epochs() {
	local file="$(run -c "SHOW data_directory")/pg_ecgdl_jobs/$(run -c "SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()").$1.ckpt"
	/usr/bin/python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
n = struct.unpack_from("<I", d, 8)[0]
print(struct.unpack_from("<i", d, 12 + n + 16)[0])' "$file" 2>/dev/null || job_field "$1" epoch
}
# wait_until ID CONDITION [SECONDS]: polls ecgdl.jobs until CONDITION holds for the job
wait_until() {
	local i limit=$(( ${3:-60} * 20 ))
	for ((i = 0; i < limit; i++)); do
		[ "$(run -c "SELECT ($2) FROM ecgdl.jobs WHERE id = $1" 2>/dev/null)" = t ] && return 0
		sleep 0.05
	done
	return 1
}

# 1. a job, watched from other sessions
job=$(run -c "SELECT ecg_train_async('resumed', $train_args)")
seen=""
for ((i = 0; i < 600; i++)); do
	e=$(job_field "$job" "COALESCE(epoch, 0)")
	case " $seen " in *" $e "*) ;; *) [ -n "$e" ] && [ "$e" -gt 0 ] && seen="$seen $e" ;; esac
	[ "$(wc -w <<<"$seen")" -ge 2 ] && break
	sleep 0.05
done
seen=${seen# }
figure "epochs of job $job seen from a second session: $seen"
check "another session sees the job's epoch advance (two finished epochs seen)" t \
	"$( [ "$(wc -w <<<"$seen")" -ge 2 ] && echo t)"
check "the view shows the job's model, epochs, loss, learning rate and time left" "resumed|8|true|true|true" \
	"$(job_field "$job" "model || '|' || epochs || '|' || (loss > 0) || '|' || (lr = 0.001) || '|' || (time_left > '0'::interval)")"

# 2. cancel: the worker ends, the state becomes cancelled
worker=$(job_field "$job" pid)
t0=$(now_ms)
state=$(run -c "SELECT ecg_job_cancel($job)")
cancel_ms=$(( $(now_ms) - t0 ))
for ((i = 0; i < 200; i++)); do kill -0 "$worker" 2>/dev/null || break; sleep 0.05; done
gone_ms=$(( $(now_ms) - t0 ))
figure "ecg_job_cancel returned after $cancel_ms ms; the worker process was gone after $gone_ms ms"
check "a cancelled job is cancelled and its worker ends (within 10 s)" "cancelled|cancelled|t" \
	"$state|$(job_field "$job" state)|$( [ "$gone_ms" -lt 10000 ] && ! kill -0 "$worker" 2>/dev/null && echo t)"
cancelled_at=$(job_field "$job" epoch)
check "the cancelled job keeps its progress (epoch $cancelled_at) and made no model" "t|0" \
	"$( [ "${cancelled_at:-0}" -ge 2 ] && echo t)|$(run -c "SELECT count(*) FROM ecgdl.models WHERE name = 'resumed'")"
cancelled_ckpt=$(checkpoint_epochs "$job")

# 3. resume; it goes on after the last finished epoch
run -c "SELECT ecg_job_resume($job)" >/dev/null
wait_until "$job" "state = 'running' AND epoch IS NOT NULL" 30
check "a resumed job goes on from its checkpoint (epoch $cancelled_at or later at once)" t \
	"$(run -c "SELECT epoch >= $cancelled_at FROM ecgdl.jobs WHERE id = $job")"

others=$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_catalog.pg_stat_activity
	WHERE backend_type = 'client backend' AND pid <> pg_catalog.pg_backend_pid()")
killed_at="" restarted_at=""
if [ "$others" != 0 ]; then
	echo "ok - kill -9 and restart of a job # SKIP: $others other client sessions are connected"
else
	# 4. kill -9 the worker after one more epoch
	wait_until "$job" "epoch >= $cancelled_at + 1" 60
	worker=$(job_field "$job" pid)
	killed_at=$(job_field "$job" epoch)
	if kill -9 "$worker" 2>/dev/null || runuser -u postgres -- kill -9 "$worker" 2>/dev/null; then
		[ -n "${ECGDL_KILLED_PIDS:-}" ] && echo "$worker" >>"$ECGDL_KILLED_PIDS"
		waited=$(wait_for_server)
		killed_at=$(checkpoint_epochs "$job")
		figure "killed worker $worker after epoch $killed_at; the server accepted connections again after $waited ms"
		check "a job whose worker was killed shows as failed (interrupted), resumable" "failed|true" \
			"$(job_field "$job" "state || '|' || (error LIKE 'interrupted%')")"
		check "after the crash the job resumes" queued "$(run -c "SELECT ecg_job_resume($job)")"
	else
		not_ok "kill -9 the worker" "no right to signal PID $worker (run as root or as the server's owner)"
	fi

	# 5. restart the server mid-job; a job held back by ecgdl.max_jobs = 0
	# waits queued and starts by itself after the restart (max_jobs back to 2)
	psql -X -q -d postgres -c "ALTER SYSTEM SET ecgdl.max_jobs = 0" -c "SELECT pg_catalog.pg_reload_conf()" >/dev/null
	sleep 0.2
	held=$(run -c "SELECT ecg_train_async('held', 'shapes', 'baseline', epochs => 2, batch_size => 64)")
	psql -X -q -d postgres -c "ALTER SYSTEM RESET ecgdl.max_jobs" >/dev/null
	wait_until "$job" "state = 'running' AND epoch >= ${killed_at:-0} + 1" 60
	restarted_at=$(job_field "$job" epoch)
	check "a job over ecgdl.max_jobs (0) waits queued" queued "$(job_field "$held" state)"
	datadir=$(run -c "SHOW data_directory")
	ctl=(pg_ctl -D "$datadir" -l "$(dirname "$datadir")/server.log" -m fast -w restart)
	if [ "$(id -u)" -eq 0 ]; then ctl=(runuser -u postgres -- "${ctl[@]}"); fi
	if "${ctl[@]}" >/dev/null 2>&1 && wait_for_server >/dev/null; then
		restarted_at=$(checkpoint_epochs "$job")
		figure "restarted the server after epoch $restarted_at of job $job"
		check "after a server restart the job shows as failed (interrupted), resumable" "failed|true" \
			"$(job_field "$job" "state || '|' || (error LIKE 'interrupted%')")"
		wait_until "$held" "state IN ('done', 'failed', 'cancelled')" 30
		check "a job left queued by a restart starts by itself after it" done "$(job_field "$held" state)"
		run -c "SELECT ecg_job_resume($job)" >/dev/null
	else
		not_ok "restart the server" "pg_ctl restart failed (run as root or as the server's owner)"
	fi
fi

# 6. the job ends with the uninterrupted run's bytes, its checkpoint removed
wait_until "$job" "state IN ('done', 'failed', 'cancelled')" 120
check "the interrupted and resumed job is done" "done|" "$(job_field "$job" "state || '|' || COALESCE(error, '')")"
check "its model has the bytes of the uninterrupted run (md5 of ecg_model_export)" "$reference" \
	"$(run -c "SELECT md5(ecg_model_export('resumed'))")"
figure "md5 of the uninterrupted model $reference; of the resumed job's model $(run -c "SELECT md5(ecg_model_export('resumed'))")"
log="$(dirname "$(run -c "SHOW data_directory")")/server.log"
if [ -r "$log" ]; then
	resumed=$(tail -c +$((log_start + 1)) "$log" | grep -o "job $job: resuming the training of \"resumed\" after epoch [0-9]*" | awk '{print $NF}' | paste -sd' ')
	figure "the worker's log: job $job resumed after epochs: $resumed"
	check "every resume went on from the last checkpoint (server log)" \
		"$cancelled_ckpt${killed_at:+ $killed_at}${restarted_at:+ $restarted_at}" "$resumed"
fi
dboid=$(run -c "SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()")
datadir=$(run -c "SHOW data_directory")
check "the done job's checkpoint file is removed" "absent" \
	"$( [ -e "$datadir/pg_ecgdl_jobs/$dboid.$job.ckpt" ] && echo present || echo absent)"
check "resuming a done job is refused (55000)" 55000 "$(sqlstate_as postgres "SELECT ecg_job_resume($job)")"

# 7. the queue: ecgdl.max_jobs = 1, three jobs run one after the other in order
psql -X -q -d postgres -c "ALTER SYSTEM SET ecgdl.max_jobs = 1" -c "SELECT pg_catalog.pg_reload_conf()" >/dev/null
sleep 0.2
ids=$(run <<'SQL' | paste -sd,
SELECT ecg_train_async('q1', 'shapes', 'baseline', epochs => 3, batch_size => 64);
SELECT ecg_train_async('q2', 'shapes', 'baseline', epochs => 3, batch_size => 64);
SELECT ecg_train_async('q3', 'shapes', 'baseline', epochs => 3, batch_size => 64);
SQL
)
last=${ids##*,}
wait_until "$last" "state IN ('done', 'failed', 'cancelled')" 60
check "three jobs over ecgdl.max_jobs = 1 all finish" "done,done,done" \
	"$(run -c "SELECT string_agg(state, ',' ORDER BY id) FROM ecgdl.jobs WHERE id IN ($ids)")"
check "they ran one at a time, in the order queued" t \
	"$(run -c "SELECT bool_and(prev_finished <= started_at) AND bool_and(prev_started < started_at)
	            FROM (SELECT started_at, lag(finished_at) OVER w AS prev_finished, lag(started_at) OVER w AS prev_started
	                  FROM ecgdl.jobs_table WHERE id IN ($ids) WINDOW w AS (ORDER BY id)) s
	            WHERE prev_finished IS NOT NULL")"

# 8. a study job, cancelled in its second step and resumed: the split is not
# made again and the models have the bytes of the synchronous study's
study_args="'slow', 'sj', epochs => 3, batch_size => 128, methods => ARRAY['none', 'random'], archs => ARRAY['cnn'], replace => true"
run -c "SET client_min_messages = warning" -c "SELECT count(*) FROM ecg_study($study_args)" >/dev/null &
client=$!
seen=$(watch_sessions "$client" study)
wait "$client"
figure "the synchronous study seen in ecgdl.jobs: $seen"
check "a synchronous ecg_study shows its steps and its trainings' epochs in ecgdl.jobs" t \
	"$(grep -q '\[2/4 sj_cnn_none [1-3]/3\]' <<<"$seen" && grep -q '\[4/4 sj_cnn_random [0-3]/3\]' <<<"$seen" && echo t)"
sync_models=$(run -c "SELECT string_agg(name || '=' || md5(ecg_model_export(name)), ' ' ORDER BY name) FROM ecgdl.models WHERE name LIKE 'sj\_%'")
study=$(run -c "SELECT ecg_study_async($study_args)")
wait_until "$study" "step = 2 AND epoch >= 1" 60
split_xmin=$(run -c "SELECT xmin FROM sj_test LIMIT 1")
run -c "SELECT ecg_job_cancel($study)" >/dev/null
check "a study cancelled in step 2 of 4 has done step 1" "cancelled|1|4" "$(job_field "$study" "state || '|' || step || '|' || steps")"
run -c "SELECT ecg_job_resume($study)" >/dev/null
wait_until "$study" "state IN ('done', 'failed', 'cancelled')" 120
check "the resumed study is done" "done|4|4|" "$(job_field "$study" "state || '|' || step || '|' || steps || '|' || COALESCE(error, '')")"
check "the resumed study did not split again (the split tables are those of step 1)" "$split_xmin" \
	"$(run -c "SELECT xmin FROM sj_test LIMIT 1")"
check "the study job's models have the bytes of the synchronous study's" "$sync_models" \
	"$(run -c "SELECT string_agg(name || '=' || md5(ecg_model_export(name)), ' ' ORDER BY name) FROM ecgdl.models WHERE name LIKE 'sj\_%'")"

# 9. another role's cancel: refused, unless it has pg_signal_backend
alice_job=$(as_role ecgdl_jobs_alice -c "SELECT ecg_train_async('alice_model', 'slow', 'cnn', epochs => 20, batch_size => 128)")
expect_as ecgdl_jobs_bob 42501 "another role's cancel is refused (42501)" "SELECT ecg_job_cancel($alice_job)"
expect_as ecgdl_jobs_bob 42501 "another role's resume is refused (42501)" "SELECT ecg_job_resume($alice_job)"
psql -X -q -d postgres -c "GRANT pg_signal_backend TO ecgdl_jobs_bob" >/dev/null
expect_as ecgdl_jobs_bob 00000 "a member of pg_signal_backend may cancel another role's job" "SELECT ecg_job_cancel($alice_job)"
check "that job is cancelled" cancelled "$(job_field "$alice_job" state)"
expect_as ecgdl_jobs_alice 55000 "cancelling a job that has ended is refused (55000)" "SELECT ecg_job_cancel($alice_job)"
expect_as ecgdl_jobs_alice 42704 "an unknown job id is refused (42704)" "SELECT ecg_job_cancel(999999)"

# a cancelled job keeps its checkpoint file until it is forgotten
forgotten=$(run -c "SELECT ecg_train_async('forgotten', 'slow', 'cnn', epochs => 8, batch_size => 128)")
wait_until "$forgotten" "epoch >= 1" 60
run -c "SELECT ecg_job_cancel($forgotten)" >/dev/null
ckpt="$datadir/pg_ecgdl_jobs/$dboid.$forgotten.ckpt"
check "a cancelled job keeps its checkpoint file" present "$( [ -e "$ckpt" ] && echo present || echo absent)"
check "ecg_job_forget removes the job and its checkpoint file" "t|0|absent" \
	"$(run -c "SELECT ecg_job_forget($forgotten)")|$(run -c "SELECT count(*) FROM ecgdl.jobs WHERE id = $forgotten")|$( [ -e "$ckpt" ] && echo present || echo absent)"

# 10. a cluster of its own without shared_preload_libraries: everything but
# the jobs works as before; the job functions refuse with 55000
plain=$(mktemp -d /tmp/ecgdl-jobs.XXXXXX)
chmod 755 "$plain"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$plain"
plain_port=${ECGDL_JOBS_PORT:-$(( ${ECGDL_PGPORT:-54329} + 4 ))}
if as_pg_owner "$PG_BIN/initdb" -D "$plain/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >/dev/null &&
	as_pg_owner "$PG_BIN/pg_ctl" -D "$plain/data" -l "$plain/server.log" -w \
		-o "-k $plain -p $plain_port -c listen_addresses='' -c fsync=off" start >/dev/null; then
	on_plain() { psql -X -q -At -h "$plain" -p "$plain_port" -U postgres -d postgres "$@" 2>&1; }
	out=$( (echo "SET client_min_messages = warning; CREATE EXTENSION ecgdl;"; beats_sql 200
		echo "SELECT ecg_train('plain', 'beats', 'baseline', epochs => 2, batch_size => 32) > 0;"
		echo "SELECT count(*) FROM ecg_evaluate('plain', 'beats');"
		echo "SELECT count(*) FROM ecgdl.jobs;") | on_plain -v ON_ERROR_STOP=1 | paste -sd'|')
	check "without shared_preload_libraries: training, evaluation and the (empty) view work" "t|8|0" "$out"
	for call in "ecg_train_async('x', 'beats', 'baseline')" "ecg_study_async('beats', 'p')" "ecg_job_resume(1)"; do
		state=$(printf '%s\n' "SELECT $call;" '\echo :LAST_ERROR_SQLSTATE' | on_plain | tail -n 1)
		check "without shared_preload_libraries ${call%%(*} refuses (55000, hint: shared_preload_libraries)" 55000 "$state"
	done
else
	not_ok "start a cluster without shared_preload_libraries on port $plain_port" "$(tail -n 3 "$plain/server.log" 2>/dev/null)"
fi

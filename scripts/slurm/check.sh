#!/usr/bin/env bash
# Check scripts/slurm/sweep.sbatch against a real Slurm: a private one-node cluster
# (slurmctld + slurmd from Debian's slurm-wlm, with munge) started in a temp folder and
# stopped at the end. Each case runs the quickstart for a few steps (niced, 1 thread) as
# a one-task array and checks what Slurm and wtrain did:
#
#   cancel      `scancel JOB` while training: ends CANCELLED, not requeued
#   early-term  SIGTERM to the batch script as soon as the task runs (before wtrain is
#               up, as a preemption or time-limit warning while Node starts): requeued, then done
#   warn        SIGTERM to the batch script while training (what --signal=B:TERM@300
#               sends before the time limit): wtrain checkpoints, the script requeues, then done
#   requeue     `scontrol requeue JOB` while training: Slurm requeues it itself (once), then done
#   preempt     a job in a higher-priority partition preempts it: requeued by Slurm, then done
#   timeout     the time limit with no warning signal (--time=1, the script's --signal
#               line removed): TIMEOUT, requeued by the script, then done (~2 min)
#
#   scripts/slurm/check.sh [--script FILE] [--steps N] [--stub] [--keep] [CASE...]   (default: all)
#
# --stub: a stand-in for wtrain (bin/wtrain.js in a temp folder: "loads" 1.5 s, "trains"
# 3 s, exits 75 on SIGTERM once loaded) instead of the quickstart, to check the batch
# script's own logic in seconds (test/slurm/sweep-sbatch.test.ts runs `--stub cancel early-term`).
# Needs root and `apt-get install -y slurm-wlm`. A requeued task waits for its BeginTime
# (~2 min after the requeue); the check prints that wait and starts the task at once
# (scontrol update StartTime=now). Exit status: the number of failed cases.
set -uo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
script=$here/scripts/slurm/sweep.sbatch
steps=40
keep=0
stub=0
while [ $# -gt 0 ]; do
  case $1 in
    --script) script=$(realpath "$2"); shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --stub) stub=1; shift ;;
    -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
cases=("$@")
[ ${#cases[@]} -eq 0 ] && cases=(cancel early-term warn requeue preempt timeout)
for c in "${cases[@]}"; do
  case $c in cancel | early-term | warn | requeue | preempt | timeout) ;; *) echo "unknown case: $c" >&2; exit 2 ;; esac
done
for cmd in slurmctld slurmd sbatch munge; do
  command -v $cmd >/dev/null || { echo "check.sh: $cmd not found (apt-get install -y slurm-wlm)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "check.sh: run as root (it starts slurmctld and slurmd)" >&2; exit 2; }

T=$(mktemp -d /tmp/wtrain-slurm.XXXXXX)
export SLURM_CONF=$T/slurm.conf
mkdir -p "$T/state" "$T/spool" "$T/runs"
submit_dir=$here
if [ $stub = 1 ]; then
  # The batch script runs `node bin/wtrain.js run ... --run-dir DIR ...` in the submit folder.
  submit_dir=$T/stub
  mkdir -p "$submit_dir/bin"
  cat >"$submit_dir/bin/wtrain.js" <<'EOF'
const fs = require('node:fs');
const path = require('node:path');
const dir = process.argv[process.argv.indexOf('--run-dir') + 1];
const status = path.join(dir, 'status.json');
const put = (s) => fs.writeFileSync(status, `{"status": "${s}"}\n`);
fs.mkdirSync(dir, { recursive: true });
const before = fs.existsSync(status) ? fs.readFileSync(status, 'utf8') : '';
if (before.includes('"done"')) process.exit(0);
if (before.includes('"interrupted"')) fs.appendFileSync(path.join(dir, 'meta.json'), '"checkpoint"\n');
// Like wtrain, whose handlers are up only once Node has loaded it (seconds): a SIGTERM
// before then ends the process (143).
setTimeout(() => {
  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    put('interrupted');
    process.exit(75);
  });
  put('running');
  fs.appendFileSync(path.join(dir, 'metrics.jsonl'), '{"kind":"step"}\n');
  setTimeout(() => {
    put('done');
    process.exit(0);
  }, 3000);
}, 1500);
EOF
fi
cat >"$SLURM_CONF" <<EOF
ClusterName=wtraincheck
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
KillWait=30
MinJobAge=3600
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
NodeName=localhost CPUs=1 State=UNKNOWN
PartitionName=low Nodes=localhost Default=YES MaxTime=INFINITE State=UP PriorityTier=1
PartitionName=high Nodes=localhost MaxTime=INFINITE State=UP PriorityTier=10
EOF

started_munge=0
cleanup() {
  scancel --quiet --user=root 2>/dev/null
  local p pid
  for p in slurmd slurmctld; do
    pid=$(cat "$T/$p.pid" 2>/dev/null) || continue
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  done
  [ $started_munge = 1 ] && /etc/init.d/munge stop >/dev/null 2>&1
  if [ $keep = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
if ! munge -n </dev/null >/dev/null 2>&1; then
  /etc/init.d/munge start >/dev/null && started_munge=1
fi
slurmctld -f "$SLURM_CONF" -i || exit 2
nice -n 10 slurmd -f "$SLURM_CONF" -N localhost || exit 2
for _ in $(seq 60); do sinfo -h -o %t 2>/dev/null | grep -q idle && break; sleep 0.5; done

now() { date +%s; }
# field JOB KEY: one field of `scontrol show job -o`.
field() { scontrol show job -o "$1" 2>/dev/null | grep -o " $2=[^ ]*" | head -1 | cut -d= -f2-; }
# wait_state JOB REGEX SECONDS: until JobState matches.
wait_state() {
  local end=$(($(now) + $3))
  while [ "$(now)" -lt $end ]; do
    [[ "$(field "$1" JobState)" =~ ^($2)$ ]] && return 0
    sleep 0.2
  done
  return 1
}
# training DIR SECONDS: until the run has logged a training step.
training() {
  local end=$(($(now) + $2))
  while [ "$(now)" -lt $end ]; do
    grep -qs '"kind":"step"' "$1/metrics.jsonl" && return 0
    sleep 0.2
  done
  return 1
}
# submit CASE [SBATCH_ARGS...] [-- WTRAIN_ARGS...]: a one-task array of the quickstart, kp, seed 0.
submit() {
  local name=$1 file=$script
  shift
  if [ "$name" = timeout ]; then
    file=$T/no-signal.sbatch
    grep -v '^#SBATCH --signal' "$script" >"$file"
  fi
  local sb=() wt=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do sb+=("$1"); shift; done
  [ $# -gt 0 ] && shift && wt=("$@")
  (cd "$submit_dir" && CONFIG=configs/quickstart.yaml RULES=kp SEEDS=0 OUT="$T/runs/$name" sbatch --parsable \
    --array=0 --cpus-per-task=1 --mem=0 --output="$T/$name-%A_%a.out" "${sb[@]}" "$file" --set "train.max_steps=$steps" \
    --set train.log_every=2 --set train.angles_every=0 --set train.eval_batches=2 \
    --set run.checkpoint_unit=step --set run.checkpoint_every=4 --set backend.threads=1 "${wt[@]}") |
    cut -d';' -f1
}
# requeued JOB: waits for PENDING (requeued), prints the BeginTime wait, starts it now.
requeued() {
  wait_state "$1" 'PENDING|COMPLETED|FAILED|CANCELLED|TIMEOUT' 120
  if [ "$(field "$1" JobState)" != PENDING ]; then
    echo "  not requeued: $(field "$1" JobState), ExitCode=$(field "$1" ExitCode), Restarts=$(field "$1" Restarts)"
    return 1
  fi
  local wait
  wait=$(($(date -d "$(field "$1" EligibleTime)" +%s) - $(date -d "$(field "$1" SubmitTime)" +%s)))
  echo "  requeued (Restarts=$(field "$1" Restarts)), eligible $wait s after the requeue; starting it now"
  scontrol update JobId="$1" StartTime=now
}
# finished CASE JOB RESTARTS: the task completed after RESTARTS requeues and the run is done.
finished() {
  wait_state "$2" 'COMPLETED|FAILED|CANCELLED|TIMEOUT|PREEMPTED|NODE_FAIL|OUT_OF_MEMORY' 600
  local state restarts run status
  state=$(field "$2" JobState)
  restarts=$(field "$2" Restarts)
  run=$T/runs/$1/quickstart-kp-s0
  status=$(grep -o '"status": *"[a-z]*"' "$run/status.json" 2>/dev/null | grep -o '[a-z]*"$' | tr -d '"')
  local resumes
  resumes=$(grep -c '"checkpoint"' "$run/meta.json" 2>/dev/null)
  echo "  ended $state, ExitCode=$(field "$2" ExitCode), Restarts=$restarts; run $status, resumed from a checkpoint ${resumes:-0}x"
  [ "$state" = COMPLETED ] && [ "$restarts" = "$3" ] && [ "$status" = done ]
}

failed=0
verdict() {
  if [ "$2" = 0 ]; then
    echo "PASS $1"
  else
    echo "FAIL $1; the task's output, less wtrain's JSON lines:"
    grep -hv '^{' "$T/$1-"*.out | sed 's/^/  | /'
    failed=$((failed + 1))
  fi
}

for c in "${cases[@]}"; do
  echo "== $c"
  case $c in
    timeout) job=$(submit "$c" --time=1 -- --set train.max_steps=null --set train.epochs=1000) ;;
    *) job=$(submit "$c") ;;
  esac
  task=${job}_0
  ok=1
  case $c in
    cancel)
      training "$T/runs/$c/quickstart-kp-s0" 120 && scancel "$task"
      wait_state "$task" 'CANCELLED|COMPLETED|FAILED|PENDING' 120
      state=$(field "$task" JobState)
      echo "  after scancel: $state, Restarts=$(field "$task" Restarts), ExitCode=$(field "$task" ExitCode)"
      [ "$state" = CANCELLED ] && [ "$(field "$task" Restarts)" = 0 ] && ok=0
      ;;
    early-term)
      wait_state "$task" RUNNING 120
      for _ in $(seq 50); do scancel --signal=TERM --batch "$task" 2>/dev/null && break; sleep 0.1; done
      echo "  SIGTERM sent to the batch script $(($(now) - $(date -d "$(field "$task" StartTime)" +%s))) s after it started"
      requeued "$task" && finished "$c" "$task" 1 && ok=0
      ;;
    warn)
      training "$T/runs/$c/quickstart-kp-s0" 120 && scancel --signal=TERM --batch "$task"
      requeued "$task" && finished "$c" "$task" 1 && ok=0
      ;;
    requeue)
      training "$T/runs/$c/quickstart-kp-s0" 120 && scontrol requeue "$task"
      requeued "$task" && finished "$c" "$task" 1 && ok=0
      ;;
    preempt)
      training "$T/runs/$c/quickstart-kp-s0" 120 &&
        sbatch --quiet -p high --output=/dev/null --wrap 'sleep 2' >/dev/null
      requeued "$task" && finished "$c" "$task" 1 && ok=0
      ;;
    timeout)
      # --time=1 and steps enough for longer: Slurm ends it after 60-90 s, with KillWait
      # (30 s) for the checkpoint; the script requeues it. Not run to the end (the next
      # session would time out as well): the check stops at the requeue.
      if wait_state "$task" RUNNING 120 && requeued "$task"; then
        run=$T/runs/$c/quickstart-kp-s0
        echo "  run $(grep -o '"status": *"[a-z]*"' "$run/status.json" | grep -o '[a-z]*"$' | tr -d '"'); log: $(grep -h 'requeue' "$T/$c-"*.out | tail -1)"
        grep -qs '"status": *"interrupted"' "$run/status.json" && ok=0
      fi
      ;;
  esac
  scancel "$task" 2>/dev/null
  wait_state "$task" 'COMPLETED|FAILED|CANCELLED|TIMEOUT|PREEMPTED|NODE_FAIL|OUT_OF_MEMORY' 60
  verdict "$c" $ok
done
exit $failed

#!/usr/bin/env bash
# Sweep learning rules x seeds as a loop of `wtrain run` calls, then one report.
# Resumable: finished runs are skipped, interrupted ones continue (--resume auto).
#
#   scripts/sweep.sh [-c CONFIG] [-r "bp kp ..."] [-s "0 1 2"] [-o runs/sweep] [-- WTRAIN_RUN_ARGS...]
#
#   -c CONFIG  config file; a literal {rule} in it is replaced by the rule
#              (configs/resnet18-{rule}.yaml), otherwise --set rule.name=RULE is added
#              (default: configs/quickstart.yaml)
#   -r RULES   rules, space-separated (default: every rule, `wtrain rules --names`; with
#              {rule} in CONFIG, those that have such a config file)
#   -s SEEDS   seeds, space-separated (default: "0")
#   -o DIR     folder of the run directories (default: runs/sweep-<config>)
#   -n         dry run: print the commands
#   after --    passed to every `wtrain run` (e.g. --set train.epochs=2 --smoke)
#
# Run names are <config>-<rule>-s<seed>. Exit status: 0 when every run is done;
# 75 when a run was interrupted (SIGINT/SIGTERM: run the sweep again to continue);
# otherwise the first failing run's status, after trying the others.
set -uo pipefail

config=configs/quickstart.yaml
rules=""
seeds="0"
out=""
dry=0
while getopts "c:r:s:o:nh" opt; do
  case $opt in
    c) config=$OPTARG ;;
    r) rules=$OPTARG ;;
    s) seeds=$OPTARG ;;
    o) out=$OPTARG ;;
    n) dry=1 ;;
    h) sed -n '2,19p' "$0"; exit 0 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift

here=$(cd "$(dirname "$0")/.." && pwd)
wtrain=${WTRAIN:-"$here/bin/wtrain.js"}
all_rules=0
if [ -z "$rules" ]; then
  rules=$("$wtrain" rules --names) || exit 2
  all_rules=1
fi
stem=$(basename "${config//\{rule\}/all}" .yaml)
out=${out:-runs/sweep-$stem}

interrupted=0
failed=0
dirs=()
trap 'interrupted=1' INT TERM

for rule in $rules; do
  for seed in $seeds; do
    cfg=${config//\{rule\}/$rule}
    if [ $all_rules = 1 ] && [ "$cfg" != "$config" ] && [ ! -f "$cfg" ]; then
      echo "sweep: no $cfg, leaving out $rule"
      continue 2
    fi
    extra=()
    [ "$cfg" = "$config" ] && extra=(--set "rule.name=$rule")
    if [ "$cfg" = "$config" ]; then name="$stem-$rule-s$seed"; else name="$(basename "$cfg" .yaml)-s$seed"; fi
    dir="$out/$name"
    dirs+=("$dir")
    if grep -qs '"status": "done"' "$dir/status.json"; then
      echo "sweep: $name done, skipping"
      continue
    fi
    cmd=("$wtrain" run "$cfg" "${extra[@]}" --set "train.seed=$seed" --run-dir "$dir" --resume auto --no-report "$@")
    echo "sweep: ${cmd[*]}"
    [ $dry = 1 ] && continue
    "${cmd[@]}" &
    child=$!
    wait $child
    status=$?
    if [ $interrupted = 1 ]; then
      # We were signalled: pass it on, wait for the checkpoint, stop the sweep.
      kill -TERM $child 2>/dev/null
      wait $child
      echo "sweep: interrupted; run the same command again to continue" >&2
      exit 75
    fi
    if [ $status = 75 ]; then
      echo "sweep: $name was interrupted; run the same command again to continue" >&2
      exit 75
    fi
    if [ $status != 0 ]; then
      echo "sweep: $name failed (exit $status)" >&2
      [ $failed = 0 ] && failed=$status
    fi
  done
done

[ $dry = 1 ] && exit 0
done_dirs=()
for d in "${dirs[@]}"; do [ -f "$d/metrics.jsonl" ] && done_dirs+=("$d"); done
if [ ${#done_dirs[@]} -gt 0 ]; then
  "$wtrain" report "${done_dirs[@]}" --out "$out/report" || true
fi
exit $failed

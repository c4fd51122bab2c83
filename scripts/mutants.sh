#!/usr/bin/env bash
# Mutation check (issue 21): applies each small deliberate bug in tests/mutants/*.mutant to the source tree,
# rebuilds incrementally in a build directory of its own (build-mutants: the normal build stays clean), runs
# the tests and prints "caught" or "NOT CAUGHT" per mutant. The tree is restored after each mutant and on
# any exit, Ctrl-C included. Not part of CI (too slow); run it before changing what the tests promise.
#
#   scripts/mutants.sh [--full] [--build-dir DIR] [--seed-from DIR] [-j N] [NAME...]
#     NAME      only these mutants (file names without .mutant); default: all
#     --full    run the whole suite (except the natlab and bench labels) for each mutant, not the subset
#               its file names on its "tests:" line
#     -j N      ctest parallelism (default 2)
#     --seed-from DIR   when the mutants' build directory does not exist yet, start it as a copy of the
#               built tree DIR (e.g. build) with its paths rewritten, instead of compiling everything again
#
# A mutant file (tests/mutants/NAME.mutant) is text, not a line-numbered diff, so it survives files moving
# around; only its `file:` paths need updating then:
#   # what the bug is (comment lines start with #)
#   tests: <ctest -R regex>          the subset that must catch it (optional; without it the full run)
#   targets: <cmake targets>         what to rebuild for that subset (optional; default all; --full: all)
#   file: path/from/the/repo/root
#   @@ original
#   <exact lines, must occur exactly once in the file>
#   @@ replacement
#   <lines put in their place (may be empty)>
#   @@ end
# Several file/original/replacement blocks may follow each other. A snippet that is not found (or found
# twice) is a clear error naming the mutant and the file: update the mutant, the script never guesses.
# Exit status: 0 when every mutant was caught, 1 when one was not, 2 on a usage or apply/build error.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_DIR=build-mutants
FULL=0
JOBS=2
SEED=
NAMES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --full) FULL=1 ;;
    --build-dir) BUILD_DIR=$2; shift ;;
    --seed-from) SEED=$2; shift ;;
    -j) JOBS=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "mutants.sh: unknown option $1" >&2; exit 2 ;;
    *) NAMES+=("$1") ;;
  esac
  shift
done

MUTANT_DIR=tests/mutants
if [ ${#NAMES[@]} -eq 0 ]; then
  for f in "$MUTANT_DIR"/*.mutant; do NAMES+=("$(basename "$f" .mutant)"); done
fi
for n in "${NAMES[@]}"; do
  [ -f "$MUTANT_DIR/$n.mutant" ] || { echo "mutants.sh: no mutant $MUTANT_DIR/$n.mutant" >&2; exit 2; }
done

# The pristine copies of every file a mutant touched; put back on every exit.
BACKUP=$(mktemp -d)
restore() {
  local f
  if [ -f "$BACKUP/list" ]; then
    while IFS= read -r f; do
      # Written (not moved) back, so the file gets a new mtime and ninja rebuilds it next time.
      cat "$BACKUP/files/$f" > "$ROOT/$f"
    done < "$BACKUP/list"
    rm -f "$BACKUP/list"
  fi
  rm -rf "$BACKUP/files"  # the next mutant of the same file saves its pristine copy again
}
cleanup() { restore; rm -rf "$BACKUP"; }
trap cleanup EXIT
trap 'echo; echo "mutants.sh: interrupted, tree restored" >&2; exit 130' INT TERM

# apply MUTANT: edits the tree (recording backups); prints the subset regex on stdout.
apply() {
  python3 - "$ROOT" "$MUTANT_DIR/$1.mutant" "$BACKUP" <<'PY'
import os, sys
root, spec, backup = sys.argv[1:4]
name = os.path.basename(spec)[:-len(".mutant")]
tests, targets, blocks, cur, mode = "", "", [], None, None
for raw in open(spec).read().split("\n"):
    if mode in ("original", "replacement") and not raw.startswith("@@ "):
        cur[mode].append(raw)
        continue
    line = raw.strip()
    if line.startswith("@@ "):
        what = line[3:].strip()
        if what in ("original", "replacement"):
            if cur is None:
                sys.exit("mutant %s: '@@ %s' before any file: line" % (name, what))
            mode = what
        elif what == "end":
            mode = None
        else:
            sys.exit("mutant %s: unknown marker %r" % (name, line))
    elif not line or line.startswith("#"):
        continue
    elif line.startswith("tests:"):
        tests = line[len("tests:"):].strip()
    elif line.startswith("targets:"):
        targets = line[len("targets:"):].strip()
    elif line.startswith("file:"):
        cur = {"file": line[len("file:"):].strip(), "original": [], "replacement": []}
        blocks.append(cur)
    else:
        sys.exit("mutant %s: cannot read line %r" % (name, raw))
if not blocks:
    sys.exit("mutant %s: no file: block" % name)
os.makedirs(os.path.join(backup, "files"), exist_ok=True)
for b in blocks:
    path = os.path.join(root, b["file"])
    if not os.path.isfile(path):
        sys.exit("mutant %s: %s does not exist (moved? update the file: line)" % (name, b["file"]))
    text = open(path).read()
    original = "\n".join(b["original"]) + "\n"
    replacement = "\n".join(b["replacement"]) + "\n" if b["replacement"] else ""
    count = text.count(original)
    if count != 1:
        sys.exit("mutant %s: the original snippet occurs %d times in %s (must be exactly once):\n%s" %
                 (name, count, b["file"], original))
    saved = os.path.join(backup, "files", b["file"])
    if not os.path.exists(saved):
        os.makedirs(os.path.dirname(saved), exist_ok=True)
        with open(saved, "w") as f:
            f.write(text)
        with open(os.path.join(backup, "list"), "a") as f:
            f.write(b["file"] + "\n")
    with open(path, "w") as f:
        f.write(text.replace(original, replacement, 1))
print(tests + "\t" + targets)
PY
}

# Configure the mutants' build directory once (same flags as scripts/build.sh).
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Paths relative to the tree, so a file restored after its mutant is a cache hit.
  export CCACHE_BASEDIR=$ROOT CCACHE_NOHASHDIR=1
fi
if [ -n "$SEED" ] && [ ! -d "$BUILD_DIR" ]; then
  [ -f "$SEED/build.ninja" ] || { echo "mutants.sh: --seed-from $SEED: not a built tree" >&2; exit 2; }
  echo "== seeding $BUILD_DIR from $SEED"
  cp -a "$SEED" "$BUILD_DIR"
  # Text files name the build directory (CMakeCache, build.ninja, CTest files): point them at the copy.
  # The compile commands name only the source tree, so ninja finds the copied objects up to date.
  grep -rlI --null "$ROOT/$SEED" "$BUILD_DIR" |
    xargs -0 -r sed -i -E "s#$ROOT/$SEED([^-A-Za-z0-9_.]|\$)#$ROOT/$BUILD_DIR\1#g"
fi
echo "== building the unmutated tree in $BUILD_DIR"
cmake -S . -B "$BUILD_DIR" -G Ninja "${launcher[@]}" >/dev/null
if ! cmake --build "$BUILD_DIR" -j "$(nproc)" >"$BUILD_DIR/mutants-build.log" 2>&1; then
  tail -30 "$BUILD_DIR/mutants-build.log"; echo "mutants.sh: the unmutated tree does not build" >&2; exit 2
fi

# Baseline: the tests the mutants will run must pass on the unmutated tree, or a "caught" would prove nothing.
# One ctest run per distinct subset (CMake's regular expressions allow only a few groups, so no union).
subsets=()
for n in "${NAMES[@]}"; do
  t=$(sed -n 's/^tests:[[:space:]]*//p' "$MUTANT_DIR/$n.mutant" | head -1)
  if [ -z "$t" ] || [ $FULL -eq 1 ]; then subsets=(""); break; fi
  case " ${subsets[*]-} " in *" $t "*) ;; *) subsets+=("$t") ;; esac
done
echo "== baseline: the unmutated tree passes the tests the mutants use"
: >"$BUILD_DIR/mutants-baseline.log"
for t in "${subsets[@]}"; do
  base=(--test-dir "$BUILD_DIR" -j "$JOBS" --timeout 300 --output-on-failure -LE "natlab|bench")
  [ -n "$t" ] && base+=(-R "$t")
  out=$(ctest "${base[@]}" 2>&1) && ok=1 || ok=0
  printf '%s\n' "$out" >>"$BUILD_DIR/mutants-baseline.log"
  summary=$(printf '%s\n' "$out" | grep -E "tests passed|No tests were found|RegularExpression" | head -1)
  printf '  %-60s %s\n' "${t:-full suite}" "$summary"
  if [ $ok -eq 0 ] || ! printf '%s\n' "$out" | grep -q "tests passed"; then
    printf '%s\n' "$out" | grep -E '^\s*[0-9]+ - ' || true
    echo "mutants.sh: the unmutated tree does not pass -R '$t' (log: $BUILD_DIR/mutants-baseline.log)" >&2
    exit 2
  fi
done

declare -a RESULTS=()
missed=0
for n in "${NAMES[@]}"; do
  if ! applied=$(apply "$n"); then
    restore
    echo "mutants.sh: cannot apply $n (see above)" >&2
    exit 2
  fi
  subset=${applied%%$'\t'*}
  targets=${applied#*$'\t'}
  target_args=()
  if [ $FULL -eq 0 ] && [ -n "$targets" ]; then
    for t in $targets; do target_args+=(--target "$t"); done
  fi
  log="$BUILD_DIR/mutant-$n.log"
  started=$SECONDS
  if ! cmake --build "$BUILD_DIR" -j "$(nproc)" "${target_args[@]}" >"$log" 2>&1; then
    verdict="caught (does not build)"
  else
    args=(--test-dir "$BUILD_DIR" -j "$JOBS" --timeout 300 --output-on-failure -LE "natlab|bench")
    scope="full suite"
    if [ $FULL -eq 0 ] && [ -n "$subset" ]; then
      args+=(-R "$subset")
      scope="-R '$subset'"
    fi
    if ctest "${args[@]}" >>"$log" 2>&1; then
      if grep -q "No tests were found" "$log"; then
        verdict="NOT CAUGHT (no test matched $scope)"
      else
        verdict="NOT CAUGHT ($scope)"
      fi
      missed=1
    elif grep -q "_NOT_BUILT" "$log"; then
      verdict="ERROR (a test binary is missing from $BUILD_DIR: a failure that proves nothing)"
      missed=1
    else
      failed=$(grep -cE '^\s*[0-9]+ - .*\((Failed|Timeout|SEGFAULT|Subprocess aborted|Exception)' "$log" || true)
      verdict="caught ($failed failed, $scope)"
    fi
  fi
  restore
  line=$(printf '%-32s %s  [%ds]' "$n" "$verdict" $((SECONDS - started)))
  echo "$line"
  RESULTS+=("$line")
done

echo
echo "== summary (logs: $BUILD_DIR/mutant-NAME.log)"
printf '%s\n' "${RESULTS[@]}"
# Leave the mutants' build matching the tree again.
cmake --build "$BUILD_DIR" -j "$(nproc)" >"$BUILD_DIR/mutants-build.log" 2>&1 || true
exit $missed

# Reading a guest's serial log: one verdict per expected scenario, failures with their own output and kernel log.
PASSED=0; FAILED=0

pass() { PASSED=$((PASSED + 1)); echo "  PASS $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }

# report_scenarios LABEL SERIALLOG SCENARIO...: prints verdicts; failure details go to $LAB_FAILURES
report_scenarios() {
  local label=$1 serial=$2 name result; shift 2
  for name in "$@"; do
    result=$(grep -m1 "^LAB-RESULT $name " "$serial")
    case $result in
      *" PASS "*) pass "$label $name (${result##*secs=}s)";;
      *" FAIL "*) fail "$label $name (${result#LAB-RESULT $name FAIL })"; describe_failure "$label" "$serial" "$name" >> "$LAB_FAILURES";;
      *) fail "$label $name (did not run: the guest stopped before it)"
         printf '\n--- %s %s did not run\n' "$label" "$name" >> "$LAB_FAILURES";;
    esac
  done
}

describe_failure() { # describe_failure LABEL SERIALLOG SCENARIO
  local label=$1 serial=$2 name=$3
  printf '\n--- %s %s failed\n' "$label" "$name"
  echo "assertions that failed:"
  grep "^LAB-FAIL $name " "$serial" | sed "s/^LAB-FAIL $name /  /" | head -30 | grep . || echo "  (none: it stopped on an error, see its output)"
  echo "scenario output (last 25 lines, passing assertions left out):"
  sed -n "/^LAB-BEGIN $name\$/,/^LAB-RESULT $name /p" "$serial" \
    | grep -v -e '^LAB-BEGIN ' -e '^LAB-RESULT ' -e '^LAB-OK ' -e '^LAB-FAIL ' -e '^LAB-DMESG ' | tail -25 | sed 's/^/  | /'
  echo "kernel log while it ran (last 40 lines):"
  grep "^LAB-DMESG $name " "$serial" | sed "s/^LAB-DMESG $name /  k /" | grep . || echo "  (nothing new)"
}

# report_guest LABEL SERIALLOG QEMU-RC: a guest that did not reach LAB-DONE crashed or hung: one more failure, with
# the serial log's tail
report_guest() {
  local label=$1 serial=$2 rc=$3 why
  grep -q '^LAB-DONE' "$serial" && { echo "  guest $label finished"; return; }
  if grep -q 'Kernel panic' "$serial"; then why="kernel panic"
  elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then why="timed out after ${LAB_QEMU_TIMEOUT:-2700}s (hang)"
  elif ! grep -q '^LAB-BOOT' "$serial"; then why="never reached /init (QEMU exit code $rc)"
  else why="stopped without LAB-DONE (QEMU exit code $rc)"; fi
  fail "$label guest: $why"
  { printf '\n--- %s guest: %s; serial log tail:\n' "$label" "$why"; serial_tail "$serial" | sed 's/^/  | /'; } >> "$LAB_FAILURES"
}

# The first line of a kernel oops (BUG:, Oops:, general protection fault, ...), or "no oops line"
OOPS_START='(BUG: |Oops|general protection fault|invalid opcode|kernel BUG at|Kernel panic - not syncing|------------\[ cut here \])'
oops_headline() { grep -m1 -E "$OOPS_START" "$1" | sed 's/^\[ *[0-9.]*\] //' || echo "no oops line"; }

# serial_tail SERIALLOG: the log from its oops' first line (at most 120 lines), else its last 40 lines
serial_tail() {
  local first; first=$(grep -n -m1 -E "$OOPS_START" "$1" | cut -d: -f1)
  if [ -n "$first" ]; then tail -n +"$((first > 10 ? first - 10 : 1))" "$1" | head -120; else tail -40 "$1"; fi
}

# host_cpu_report HOSTCPU-FILE: per case the guests marked (lib/qemu.sh: record_host_cpu), what the host's cores did
# between its begin and its end: wall seconds, busy cores of the host's total, and each QEMU's CPU seconds
host_cpu_report() {
  [ -s "$1" ] || return 0
  awk -v cores="$(nproc)" -v tick="$(getconf CLK_TCK)" '
    $2 == "begin" { up[$1] = $3; busy[$1] = $4; main[$1] = $6; peer[$1] = $7 }
    $2 == "end" && ($1 in up) && $3 > up[$1] {
      wall = $3 - up[$1]
      printf "%s wall_s=%.1f host_busy_cores=%.2f/%d main_qemu_cpu_s=%.1f peer_qemu_cpu_s=%.1f\n", $1, wall,
        ($4 - busy[$1]) / tick / wall, cores, ($6 - main[$1]) / tick, ($7 - peer[$1]) / tick
    }' "$1"
}

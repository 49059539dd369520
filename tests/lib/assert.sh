# Shared by tests/integration/*.sh (sourced): count failures and check a command's exit code
# and its one-line error.
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# expect WANT_EXIT WANT_STDERR_SUBSTRING -- command...
# A failing command must print exactly one line on stderr, containing the substring.
expect() {
  local want=$1 msg=$2; shift 3
  local err rc
  err=$("$@" 2>&1 >/dev/null); rc=$?
  local lines; lines=$(printf '%s' "$err" | grep -c '' || true)
  if [ "$rc" -ne "$want" ] || [[ "$err" != *"$msg"* ]] || { [ "$want" -ne 0 ] && [ "$lines" -ne 1 ]; }; then
    fail "want exit $want and one line with '$msg'; got exit $rc: $err"
  fi
}

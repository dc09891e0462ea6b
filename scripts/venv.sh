# Sourced by scripts/demo and scripts/test: `ensure_venv [EXTRA]` makes ./.venv and installs
# cpms into it, again only when pyproject.toml changed (a stamp remembers), so both commands
# are idempotent and quick after the first run.
ensure_venv() {
  local extra="${1:-}" python="${PYTHON:-python3}" stamp want
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "cpms needs Python 3.11 or newer as '$python' (set PYTHON=...)" >&2
    return 1
  fi
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  stamp=".venv/.cpms-installed${extra:+-$extra}"
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extra:+[$extra]}"
    echo "$want" > "$stamp"
  fi
}

# Sourced by scripts/test: `ensure_chromium` installs Debian's Chromium (and a font to draw text
# with) when /usr/bin/chromium is missing. The browser tests drive it through Playwright with
# executable_path=/usr/bin/chromium: Playwright's own browser downloads cannot be reached from
# these machines, Debian's package can. sudo only when not root.
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing Debian's chromium for the browser tests" >&2
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium fonts-dejavu-core >/dev/null
}

# Sourced by scripts/*.sh: create .venv if needed and install the project with its dev extra
# whenever pyproject.toml changed since the last install.
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
stamp="$VENV/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "installing the project into $VENV" >&2
  if ! { "$VENV/bin/python" -m pip install --upgrade pip && "$VENV/bin/python" -m pip install -e ".[dev]"; } \
      >"$VENV/install.log" 2>&1; then
    cat "$VENV/install.log" >&2
    echo "install failed; log above and in $VENV/install.log" >&2
    exit 1
  fi
  rm -f "$VENV"/.installed-* && touch "$stamp"
fi

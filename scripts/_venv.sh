# Sourced by scripts/*.sh: create .venv if needed and install the project with its dev extra
# whenever pyproject.toml changed since the last install.
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
stamp="$VENV/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "installing the project into $VENV" >&2
  "$VENV/bin/python" -m pip install -q --upgrade pip >&2
  "$VENV/bin/python" -m pip install -q -e ".[dev]" >&2
  rm -f "$VENV"/.installed-* && touch "$stamp"
fi

#!/usr/bin/env bash
# Print the path of a Python 3.12+ interpreter: on PATH, else under pyenv, else fail loudly.
set -euo pipefail
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }
for candidate in python3.12 python3.13 python3; do
  path=$(command -v "$candidate" 2>/dev/null || true)
  if [ -n "$path" ] && ok "$path"; then echo "$path"; exit 0; fi
done
roots=()
command -v pyenv >/dev/null 2>&1 && roots+=("$(pyenv root)")
roots+=("$HOME/.pyenv" "/root/.pyenv" "/opt/pyenv")
for root in "${roots[@]}"; do
  for path in $(ls -d "$root"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -V); do
    if ok "$path"; then echo "$path"; exit 0; fi
  done
done
echo "error: Rapport needs Python 3.12 or newer; install it (e.g. pyenv install 3.12) and retry." >&2
exit 1

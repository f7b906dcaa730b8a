#!/usr/bin/env bash
# Regenerates the TypeScript readers and builders in src/schemas/generated/ from schemas/*.fbs with flatc
# (Debian's flatbuffers-compiler 2.0.8 is what the committed code was made with). Each schema goes into its own
# directory, named after its file identifier, because f142 and f144 reuse type names. flatc writes relative
# imports without an extension; NodeNext resolution needs the `.js` suffix, so it is added here. The output is
# committed, so building and CI need no flatc. Usage: scripts/generate-schemas.sh [output directory]
# (default src/schemas/generated; the tests generate into a temporary directory to compare).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
flatc=${FLATC:-flatc}
out=${1:-"$root/src/schemas/generated"}

"$flatc" --version
for schema in "$root"/schemas/*.fbs; do
  name=$(basename "$schema" .fbs)
  rm -rf "${out:?}/${name%%_*}"
  "$flatc" --ts --no-warnings -o "$out/${name%%_*}" "$schema"
done
find "$out" -name '*.ts' -exec sed -i -E "s#^((import|export) .* from '\./[^']+)';\$#\1.js';#" {} +
echo "generated $(find "$out" -name '*.ts' | wc -l) files in $out"

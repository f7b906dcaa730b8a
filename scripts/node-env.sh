# Sourced by the project's scripts: puts a Node >= 22 first on PATH and points native builds at its headers.
# The version pinned here is the one setup.sh installs from the npm registry when the machine's Node is older.
EKF_NODE_VERSION=22.23.3
EKF_CACHE_DIR=${EKF_CACHE_DIR:-$HOME/.cache/epics-kafka-forwarder}
export EKF_CACHE_DIR
ekf_node_dir="$EKF_CACHE_DIR/node-$EKF_NODE_VERSION"
if [ -x "$ekf_node_dir/bin/node" ]; then
  export PATH="$ekf_node_dir/bin:$PATH"
fi

# What setup.sh leaves behind, so that scripts/run can tell whether it ran here, for these dependencies: prints
# the first thing missing (nothing when all is in place). Usage: ekf_setup_missing ROOT
ekf_npm_stamp() { echo "$(node --version) $(sha256sum "$1/package-lock.json" | cut -d' ' -f1)"; }
ekf_python_stamp() { sha256sum "$1/test/env/requirements.txt" | cut -d' ' -f1; }
ekf_setup_missing() {
  local root=$1 kafka_version
  if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
    echo "Node.js >= 22"
  elif [ "$(cat "$root/node_modules/.ekf-installed" 2>/dev/null)" != "$(ekf_npm_stamp "$root")" ]; then
    echo "npm packages"
  elif [ ! -d "$root/dist" ]; then
    echo "build"
  elif [ "$(cat "$EKF_CACHE_DIR/venv-test/.ekf-installed" 2>/dev/null)" != "$(ekf_python_stamp "$root")" ]; then
    echo "Python test environment"
  else
    kafka_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$root/test/env/kafka/pom.xml")
    [ -f "$EKF_CACHE_DIR/kafka-$kafka_version/libs/.complete" ] && [ -f "$EKF_CACHE_DIR/kafka-certs/.complete" ] ||
      echo "Kafka broker for tests"
  fi
}

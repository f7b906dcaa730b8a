# Sourced by the project's scripts: puts a Node >= 22 first on PATH and points native builds at its headers.
# The version pinned here is the one setup.sh installs from the npm registry when the machine's Node is older.
EKF_NODE_VERSION=22.23.3
EKF_CACHE_DIR=${EKF_CACHE_DIR:-$HOME/.cache/epics-kafka-forwarder}
export EKF_CACHE_DIR
ekf_node_dir="$EKF_CACHE_DIR/node-$EKF_NODE_VERSION"
if [ -x "$ekf_node_dir/bin/node" ]; then
  export PATH="$ekf_node_dir/bin:$PATH"
fi

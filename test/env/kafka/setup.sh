#!/usr/bin/env bash
# Prepares the test Kafka broker: the broker jars and their dependencies from Maven Central, and the TLS material
# (a test CA, a broker certificate for 127.0.0.1/localhost, a client certificate for mutual TLS). Both are cached
# outside the clone (EKF_CACHE_DIR, default ~/.cache/epics-kafka-forwarder), so a second run does nothing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${EKF_CACHE_DIR:-$HOME/.cache/epics-kafka-forwarder}
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
libs="$cache/kafka-$version/libs"

if [ ! -f "$libs/.complete" ]; then
  echo "kafka: resolving Apache Kafka $version jars with Maven into $libs"
  rm -rf "$libs"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs"
  touch "$libs/.complete"
fi

certs="$cache/kafka-certs"
if [ ! -f "$certs/.complete" ]; then
  echo "kafka: generating a test CA and certificates in $certs"
  rm -rf "$certs" && mkdir -p "$certs" && cd "$certs"
  pass=test-keystore-secret
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=epics-kafka-forwarder test CA" \
    -keyout ca.key -out ca.pem 2>/dev/null
  for who in broker client; do
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$who" -keyout "$who.key" -out "$who.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$who.ext"
    openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile "$who.ext" -out "$who.pem" 2>/dev/null
  done
  openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker \
    -passout "pass:$pass" -out broker.p12
  keytool -importcert -noprompt -alias ca -file ca.pem -keystore truststore.p12 -storetype PKCS12 \
    -storepass "$pass" >/dev/null
  echo "$pass" > keystore-password
  rm -f ./*.csr ./*.ext ca.srl
  touch .complete
fi

#!/usr/bin/env bash
# Installs the Spark test world, once per version, into
#   ${SPOTGUARD_CACHE:-$HOME/.cache/spotguard}/pyspark-<PYSPARK_VERSION>/
# a Python venv holding the pinned pyspark wheel (its bin/ and jars/ are a
# whole Spark distribution) and spark.env, which names SPARK_HOME, JAVA_HOME
# and the venv's python for the TypeScript harness.
#
# Needs python3 (>= 3.10, with venv) and Java 17 or 21 (JAVA_HOME, else the
# java on PATH). Idempotent: the stamp file is written only after everything
# is in place and checked, so an interrupted install is redone.
#
# Usage: test/harness/spark/install.sh [--print-root]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache="${SPOTGUARD_CACHE:-$HOME/.cache/spotguard}"
root="$cache/pyspark-$PYSPARK_VERSION"
venv="$root/venv"
stamp="$root/.installed"
want="pyspark=$PYSPARK_VERSION"

die() { echo "install.sh: $*" >&2; exit 1; }

# JAVA_HOME if it holds a java, else the directory above the real `java` on PATH.
detect_java_home() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    echo "$JAVA_HOME"
    return
  fi
  local java
  java=$(command -v java) || die "no Java: set JAVA_HOME or put java (17 or 21) on PATH (Debian: apt-get install openjdk-17-jre-headless)"
  java=$(readlink -f "$java")
  dirname "$(dirname "$java")"
}

java_major() { # java home
  local line
  line=$("$1/bin/java" -version 2>&1 | head -n1)
  # openjdk version "17.0.15" 2025-04-15  |  java version "1.8.0_392"
  line=${line#*\"}; line=${line%%\"*}
  [[ "$line" == 1.* ]] && line=${line#1.}
  echo "${line%%[.+-]*}"
}

up_to_date() {
  [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$root/spark.env" ]] || return 1
  # shellcheck source=/dev/null
  source "$root/spark.env"
  [[ -x "$SPARK_HOME/bin/spark-class" && -x "$JAVA_HOME/bin/java" && -x "$SPARK_PYTHON" ]]
}

main() {
  if [[ "${1:-}" == "--print-root" ]]; then
    echo "$root"
    return
  fi
  if up_to_date; then
    echo "pyspark $PYSPARK_VERSION up to date in $root"
    return
  fi
  local t0; t0=$(date +%s)
  local python="${SPOTGUARD_PYTHON:-python3}"
  command -v "$python" >/dev/null || die "$python is not on PATH"
  "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
    || die "pyspark $PYSPARK_VERSION needs Python >= 3.10 ($python is $("$python" --version 2>&1))"

  local java_home major
  java_home=$(detect_java_home)
  major=$(java_major "$java_home")
  [[ "$major" == 17 || "$major" == 21 ]] || die "Spark 4 needs Java 17 or 21; $java_home/bin/java is Java $major"

  rm -f "$stamp"
  mkdir -p "$root"
  echo "installing pyspark $PYSPARK_VERSION into $venv (Java $major at $java_home, $("$python" --version 2>&1))"
  rm -rf "$venv"
  "$python" -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir \
    "pyspark==$PYSPARK_VERSION"

  local spark_home
  spark_home=$("$venv/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
  [[ -x "$spark_home/bin/spark-class" ]] || die "no bin/spark-class in $spark_home"
  [[ -d "$spark_home/jars" ]] || die "no jars/ in $spark_home"
  cat > "$root/spark.env" <<ENV
# Written by test/harness/spark/install.sh
SPARK_HOME=$spark_home
JAVA_HOME=$java_home
SPARK_PYTHON=$venv/bin/python
PYSPARK_VERSION=$PYSPARK_VERSION
ENV

  # A smoke check: spark-submit finds Java and prints its version.
  JAVA_HOME="$java_home" SPARK_HOME="$spark_home" "$spark_home/bin/spark-submit" --version 2>&1 \
    | grep -q "version $PYSPARK_VERSION" || die "spark-submit --version did not report $PYSPARK_VERSION"

  echo "$want" > "$stamp"
  echo "pyspark $PYSPARK_VERSION installed in $(( $(date +%s) - t0 ))s ($(du -sh "$root" | cut -f1))"
}

main "$@"

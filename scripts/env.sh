# Sourced by the scripts: puts the Swift toolchain on PATH and moves to the repository root.
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Release builds link the Swift runtime statically: it starts in half the time.
release_build() { swift build -c release --static-swift-stdlib "$@"; }
release_bin=".build/release/recfs"

# Every swift build or swift test leaves TemporaryDirectory.* folders (a .keep-directory file,
# sometimes the compiler driver's supplementaryOutputs-N) in the temp folder; remove the ones
# this run made when it ends.
recfs_tmp_marker=$(mktemp)
recfs_tidy_tmp() {
  local d f ours
  for d in "${TMPDIR:-/tmp}"/TemporaryDirectory.*; do
    [ -d "$d" ] && [ "$d" -nt "$recfs_tmp_marker" ] || continue
    ours=1
    for f in $(ls -A "$d"); do
      case "$f" in .keep-directory|supplementaryOutputs-*) ;; *) ours=0 ;; esac
    done
    [ "$ours" = 1 ] && rm -rf "$d"
  done
  rm -f "$recfs_tmp_marker"
}
trap recfs_tidy_tmp EXIT

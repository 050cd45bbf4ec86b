# Sourced by the scripts: puts the Swift toolchain on PATH and moves to the repository root.
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Release builds link the Swift runtime statically: it starts in half the time.
release_build() { swift build -c release --static-swift-stdlib "$@"; }
release_bin=".build/release/recfs"

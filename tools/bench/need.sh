# tools/bench/need.sh - sourced by the bench and fuzz runners: installs a
# missing tool's Debian package, as root or through sudo.
need() { # command debian-package
    command -v "$1" >/dev/null 2>&1 && return 0
    need_pkg "$2"
}
need_pkg() { # debian-package
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    echo "installing $1"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$1"
}

#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` from the build folder gives chronos_VERSION_ARCH.deb with
# the install layout under /usr, dependencies from dpkg-shlibdeps, /etc/chronos/chronos.yaml as
# a conffile naming the installed plugins, and a unit that runs /usr/bin/chronos on it. The
# package is unpacked with dpkg-deb -x (never installed: the test leaves the system alone).
#
#   deb_package_test.sh BUILD_DIR VERSION
set -euo pipefail

build=$1
version=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/out/chronos_"$version"_*.deb) || fail "no chronos_${version}_*.deb"
ok "cpack made $(basename "$deb")"

depends=$(dpkg-deb -f "$deb" Depends)
for lib in libyaml-cpp libspdlog libfmt libstdc++6 libc6; do
  [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done
ok "Depends: $depends"
[[ $(dpkg-deb -f "$deb" Version) == "$version" ]] || fail "Version: $(dpkg-deb -f "$deb" Version)"
dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/chronos/chronos.yaml "$work/control/conffiles" || fail "conffiles: $(cat "$work/control/conffiles")"
ok "version $version, /etc/chronos/chronos.yaml a conffile"

root=$work/root
dpkg-deb -x "$deb" "$root"
for f in usr/bin/chronos usr/lib/chronos/plugins/echo.so usr/lib/chronos/plugins/http.so \
         usr/include/chronos/plugin.h usr/include/chronos/Runtime.hpp usr/lib/libchronos_runtime.a \
         usr/lib/cmake/Chronos/ChronosConfig.cmake usr/lib/pkgconfig/chronos-sdk.pc \
         usr/lib/systemd/system/chronos.service etc/chronos/chronos.yaml; do
  [[ -f $root/$f ]] || fail "/$f is not in the package"
done
ok "the layout under /usr and /etc"
unit=$root/usr/lib/systemd/system/chronos.service
grep -qx "ExecStart=/usr/bin/chronos -c /etc/chronos/chronos.yaml" "$unit" || fail "$(grep ExecStart "$unit")"
grep -qx "Type=simple" "$unit" || fail "the unit's Type"
ok "the unit runs /usr/bin/chronos on /etc/chronos/chronos.yaml"

[[ $("$root/usr/bin/chronos" --version) == "chronos $version "* ]] || fail "--version"
grep -q "path: /usr/lib/chronos/plugins/http.so" "$root/etc/chronos/chronos.yaml" || fail "plugin paths"
# The conffile with its /usr paths moved into the unpacked tree passes -t.
sed "s|path: /usr/|path: $root/usr/|" "$root/etc/chronos/chronos.yaml" >"$work/check.yaml"
out=$("$root/usr/bin/chronos" -t -c "$work/check.yaml" 2>&1) || fail "-t: $out"
ok "the packaged program and plugins pass -t on the packaged configuration"

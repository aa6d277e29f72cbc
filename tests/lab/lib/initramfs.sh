# The guest's initramfs, as two uncompressed newc archives concatenated (the kernel unpacks them in turn, and an
# uncompressed one unpacks far faster under TCG): one shared by every kernel (busybox, usbip tools, the published
# host, the scenarios) and one per kernel (its modules).

# Modules loaded at boot by guest/init, and the ones scenarios load themselves; all are resolved with their
# dependencies. Names that are built into a kernel resolve to nothing, which is fine.
BOOT_MODULES="xhci-pci usb-storage sd_mod usbhid hid-generic e1000 virtio_pci virtio_blk virtio_net"
SCENARIO_MODULES="usbip-host vhci-hcd vfio-pci vfio_iommu_type1 nf_tables"

write_cpio() { # write_cpio DIR ARCHIVE
  (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$2"
}

copy_with_libraries() { # copy_with_libraries ROOT FILE...: the shared libraries FILEs need, at their paths in ROOT
  local root=$1 library; shift
  for library in $(ldd "$@" 2>/dev/null | awk '/=> \// { print $3 } /^\t\/lib64\// { print $1 }' | sort -u); do
    case $library in *lttng*) continue;; esac   # tracing only; the runtime runs without it
    [ -e "$root$library" ] || { mkdir -p "$root$(dirname "$library")"; cp -L "$library" "$root$library"; }
  done
}

add_lxc() { # add_lxc ROOT: Debian's lxc, liblxc1 and liblxc-common unpacked into ROOT (the .debs cached), with their libraries
  local root=$1 debs=$LAB_CACHE/debs/lxc deb
  if ! ls "$debs"/lxc_*.deb >/dev/null 2>&1; then
    mkdir -p "$debs"
    (cd "$debs" && apt-get download lxc liblxc1 liblxc-common) || { echo "add_lxc: apt-get download failed"; return 1; }
  fi
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$root" || return 1; done
  rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/bash-completion" "$root/usr/share/lxc/templates"
  copy_with_libraries "$root" "$root"/usr/bin/lxc-* "$root"/usr/lib/x86_64-linux-gnu/liblxc.so.1
  mkdir -p "$root/var/lib/lxc"
}

build_common_cpio() { # build_common_cpio HOSTDIR ARCHIVE
  local host=$1 archive=$2 root=$LAB_BUILD/common-root
  rm -rf "$root"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,root,opt,lab/bin,usr/share/misc}
  cp /bin/busybox "$root/bin/busybox"
  cp /usr/sbin/usbip /usr/sbin/usbipd "$root/usr/sbin/"
  copy_with_libraries "$root" /usr/sbin/usbip /usr/sbin/usbipd
  # nft: scenario 09 cuts a connection with a drop rule (a peer that vanished without a FIN)
  cp /usr/sbin/nft "$root/usr/sbin/"
  copy_with_libraries "$root" /usr/sbin/nft
  # LXC 5.0 (scenario 12: a device given to one container)
  add_lxc "$root" || return 1
  if [ "${LAB_PROFILE:-0}" = 1 ]; then # --profile: perf in the guests (the scenarios profile when it is there)
    command -v perf >/dev/null || { echo "--profile: no perf on this host (apt-get install linux-perf)"; return 1; }
    cp "$(command -v perf)" "$root/usr/bin/perf"; copy_with_libraries "$root" "$root/usr/bin/perf"
  fi
  cp -L /usr/share/misc/usb.ids /usr/share/misc/pci.ids "$root/usr/share/misc/"
  # getaddrinfo (usbip, .NET) reads these
  printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"
  printf 'root:x:0:\n' > "$root/etc/group"
  printf '127.0.0.1 localhost\n::1 localhost\n' > "$root/etc/hosts"
  printf 'passwd: files\ngroup: files\nhosts: files\n' > "$root/etc/nsswitch.conf"
  cp -L /lib/x86_64-linux-gnu/libnss_files.so.2 "$root/lib/x86_64-linux-gnu/" 2>/dev/null || true
  # the host without what only a debugger or a tracer needs
  cp -a "$host" "$root/opt/virttools"
  rm -f "$root/opt/virttools"/{*.pdb,createdump,libcoreclrtraceptprovider.so,libmscordbi.so,libmscordaccore.so,.published}
  copy_with_libraries "$root" "$root/opt/virttools/virttools" "$root/opt/virttools"/*.so
  # .NET dlopens OpenSSL for TLS (scenario 10); ldd cannot see that, so copy libssl3's libraries by name
  mkdir -p "$root/usr/lib/x86_64-linux-gnu"
  cp -L /usr/lib/x86_64-linux-gnu/libssl.so.3 /usr/lib/x86_64-linux-gnu/libcrypto.so.3 "$root/usr/lib/x86_64-linux-gnu/" || return 1
  gcc -static -O2 -Wall -o "$root/lab/bin/ksm-mergeable" "$LAB_DIR/guest/ksm-mergeable.c" || return 1
  gcc -static -O2 -Wall -o "$root/lab/bin/devlist-bench" "$LAB_DIR/guest/devlist-bench.c" || return 1
  cp -a "$LAB_DIR/scenarios" "$root/lab/scenarios"
  cp "$LAB_DIR/guest/peer.ps1" "$root/lab/peer.ps1"
  echo "$BOOT_MODULES" > "$root/lab/boot-modules"
  busybox sh -n "$LAB_DIR/guest/init" || { echo "guest/init: syntax error"; return 1; }
  cp "$LAB_DIR/guest/init" "$root/init"; chmod 755 "$root/init"
  write_cpio "$root" "$archive"
}

build_modules_cpio() { # build_modules_cpio KERNELDIR ARCHIVE
  local kernel=$1 archive=$2 version root=$LAB_BUILD/modules-root module target
  version=$(cat "$kernel/version")
  rm -rf "$root"; mkdir -p "$root/lib/modules/$version"
  for module in $BOOT_MODULES $SCENARIO_MODULES; do
    modprobe -d "$kernel/modules" -S "$version" --show-depends "$module" || echo "LAB-WARN: $version has no module $module" >&2
  done | awk '$1 == "insmod" { print $2 }' | sort -u | while read -r module; do
    target=$root/lib/modules/$version/${module#*/lib/modules/$version/}
    mkdir -p "$(dirname "$target")"
    # busybox modprobe loads plain .ko only: decompress what the package compressed
    case $module in
      *.ko.xz) xz -dc "$module" > "${target%.xz}";;
      *.ko.zst) zstd -qdc "$module" > "${target%.zst}";;
      *.ko.gz) gzip -dc "$module" > "${target%.gz}";;
      *) cp "$module" "$target";;
    esac
  done
  cp "$kernel/modules/lib/modules/$version"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$version/" 2>/dev/null
  sed -i 's/\.ko\.\(xz\|zst\|gz\)$/.ko/' "$root/lib/modules/$version/modules.order"
  depmod -b "$root" "$version" || return 1
  write_cpio "$root" "$archive"
}

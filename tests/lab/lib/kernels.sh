# Debian kernels for the lab: fetched with apt-get download + dpkg-deb -x into $LAB_CACHE (no install, no initramfs
# hooks). A flavour names a Debian meta-package; the package it depends on is the current ABI of that series.
KERNEL_META_PACKAGES="6.1=linux-image-amd64 6.12=linux-image-6.12-amd64"

kernel_meta_package() { # FLAVOUR -> meta-package name
  local pair
  for pair in $KERNEL_META_PACKAGES; do [ "${pair%%=*}" = "$1" ] && { echo "${pair#*=}"; return 0; }; done
  return 1
}

current_kernel_package() { # META -> versioned package (linux-image-6.1.0-56-amd64); refreshes apt lists once if needed
  local meta=$1 package
  package=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
  if [ -z "$package" ] && [ -z "${LAB_APT_UPDATED:-}" ]; then
    LAB_APT_UPDATED=1
    apt-get update -qq >&2 || return 1
    package=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
  fi
  [ -n "$package" ] && echo "$package"
}

# fetch_kernel FLAVOUR: prints the kernel's cache directory, holding
#   vmlinuz, version (uname -r), modules/lib/modules/<version>/ with modules.dep
# Returns 2 when Debian offers no such kernel (a note, not a failure), 1 when fetching failed.
fetch_kernel() {
  local flavour=$1 meta package dir work version
  meta=$(kernel_meta_package "$flavour") || { echo "unknown kernel flavour '$flavour' (known: $KERNEL_META_PACKAGES)" >&2; return 1; }
  package=$(current_kernel_package "$meta") || { echo "Debian's registry offers no $meta" >&2; return 2; }
  dir=$LAB_CACHE/kernels/$package
  if [ ! -e "$dir/.complete" ]; then
    work=$dir.partial
    rm -rf "$work" "$dir"; mkdir -p "$work"
    (cd "$work" && apt-get download -q -o APT::Sandbox::User=root "$package" >&2) || { echo "apt-get download $package failed" >&2; return 1; }
    dpkg-deb -x "$work"/*.deb "$work/deb" || return 1
    # Debian 12 ships /lib/modules, later releases /usr/lib/modules
    version=$(ls "$work/deb/lib/modules" "$work/deb/usr/lib/modules" 2>/dev/null | grep -- '-amd64$' | head -1)
    [ -n "$version" ] || { echo "$package holds no /lib/modules/*-amd64" >&2; return 1; }
    mkdir -p "$work/modules/lib/modules"
    mv "$work/deb/boot/vmlinuz-$version" "$work/vmlinuz"
    mv "$(ls -d "$work/deb/lib/modules/$version" "$work/deb/usr/lib/modules/$version" 2>/dev/null | head -1)" "$work/modules/lib/modules/"
    echo "$version" > "$work/version"
    rm -rf "$work/deb" "$work"/*.deb
    # the package leaves modules.dep to its postinst
    depmod -b "$work/modules" "$version" || return 1
    touch "$work/.complete"
    mv "$work" "$dir"
  fi
  echo "$dir"
}

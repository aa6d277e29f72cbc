# One guest boot: q35 with an IOMMU, an xHCI controller with three USB devices, an e1000 NIC (the passthrough subject)
# and a virtio disk the guest writes its fixture to. TCG: this machine (and CI) has no KVM.

boot_guest() { # boot_guest VMLINUZ INITRD SERIALLOG OUTDISK APPEND-EXTRA
  local vmlinuz=$1 initrd=$2 serial=$3 outdisk=$4 extra=$5 stick=$LAB_BUILD/usbstick.img
  truncate -s 16M "$stick"; busybox mkdosfs -n LABSTICK "$stick" >/dev/null 2>&1
  truncate -s 0 "$outdisk"; truncate -s 64M "$outdisk"
  local qemu=(qemu-system-x86_64
    -machine q35,kernel-irqchip=split -accel tcg -cpu max -m 2048 -smp 2
    -nographic -no-reboot -nic none -vga none
    -device intel-iommu,intremap=on,caching-mode=on
    -kernel "$vmlinuz" -initrd "$initrd"
    -append "console=ttyS0 intel_iommu=on panic=-1 loglevel=4 mitigations=off $extra"
    -device qemu-xhci,id=xhci
    -device usb-kbd,bus=xhci.0,port=1
    -device usb-tablet,bus=xhci.0,port=2
    -drive if=none,id=stick,format=raw,file="$stick"
    -device usb-storage,bus=xhci.0,port=3,drive=stick,serial=LAB0001
    -device e1000,id=nic1,mac=52:54:00:12:34:56
    -drive if=none,id=out,format=raw,file="$outdisk"
    -device virtio-blk-pci,drive=out)
  printf '%q ' "${qemu[@]}" > "$serial.cmdline"
  # panic=-1 + -no-reboot: a panic ends QEMU at once; the timeout bounds a hang
  # raw first, so `tail -f $serial.raw` follows a running guest; the CR-free copy is the one read afterwards
  timeout -k 10 "${LAB_QEMU_TIMEOUT:-420}" "${qemu[@]}" </dev/null > "$serial.raw" 2>&1
  local rc=$?
  tr -d '\r' < "$serial.raw" > "$serial"
  return $rc
}

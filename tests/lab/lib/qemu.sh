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
    -append "console=ttyS0 intel_iommu=on no_timer_check panic=-1 loglevel=4 mitigations=off $extra"
    -device qemu-xhci,id=xhci
    -device usb-kbd,bus=xhci.0,port=1
    -device usb-tablet,bus=xhci.0,port=2
    -drive if=none,id=stick,format=raw,file="$stick"
    -device usb-storage,id=stickdev,bus=xhci.0,port=3,drive=stick,serial=LAB0001
    -device e1000,id=nic1,mac=52:54:00:12:34:56
    -drive if=none,id=out,format=raw,file="$outdisk"
    -device virtio-blk-pci,drive=out
    -chardev pipe,id=monitor,path="$serial.monitor" -mon chardev=monitor,mode=readline)
  rm -f "$serial.monitor.in" "$serial.monitor.out"; mkfifo "$serial.monitor.in" "$serial.monitor.out"
  printf '%q ' "${qemu[@]}" > "$serial.cmdline"
  # panic=-1 + -no-reboot: a panic ends QEMU at once; the timeout bounds a hang
  # raw first, so `tail -f $serial.raw` follows a running guest; the CR-free copy is the one read afterwards
  timeout -k 10 "${LAB_QEMU_TIMEOUT:-1800}" "${qemu[@]}" </dev/null > "$serial.raw" 2>&1 &
  local guest=$!
  cat <> "$serial.monitor.out" > "$serial.monitor.log" &  # read-write: never blocks, even if QEMU did not start
  local drain=$!
  carry_out_requests "$guest" "$serial.raw" "$serial.monitor.in" "$stick" &
  local requests=$!
  wait "$guest"
  local rc=$?
  wait "$requests"; kill "$drain" 2>/dev/null; wait "$drain" 2>/dev/null
  tr -d '\r' < "$serial.raw" > "$serial"
  return $rc
}

# The guest asks for hot-plug by printing "LAB-QEMU <request>" (scenarios/_Lab.ps1: Invoke-LabQemu); only these
# requests exist, so a guest cannot drive the monitor at will:
#   unplug-stick         device_del of the USB stick (it disappears from the guest's xHCI)
#   plug-stick PORT      the same image plugged again on xHCI port PORT (a new bus id, the same serial)
carry_out_requests() { # carry_out_requests QEMU-PID SERIAL-RAW MONITOR-FIFO STICK-IMAGE
  local guest=$1 raw=$2 stick=$4 line plugs=0 monitor
  exec {monitor}<>"$3"  # read-write: a write never blocks on a FIFO whose reader (QEMU) is gone
  tail -F -n +1 --pid="$guest" "$raw" 2>/dev/null | while IFS= read -r line; do
    line=${line%$'\r'}
    case $line in
      "LAB-QEMU unplug-stick") printf 'device_del stickdev\n' >&"$monitor";;
      "LAB-QEMU plug-stick "[1-8])
        plugs=$((plugs + 1))
        printf 'drive_add 0 if=none,id=stick%s,format=raw,file=%s\n' "$plugs" "$stick" >&"$monitor"
        printf 'device_add usb-storage,id=stickdev,bus=xhci.0,port=%s,drive=stick%s,serial=LAB0001\n' "${line##* }" "$plugs" >&"$monitor";;
    esac
  done
}

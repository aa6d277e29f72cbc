# One guest boot: q35 with an IOMMU, an xHCI controller with three USB devices, an e1000 NIC (the passthrough subject),
# a virtio disk the guest writes its fixture to, and a virtio NIC on the lab's LAN: a QEMU stream link over a Unix
# socket in the build folder to a second guest, the peer, booted only when a scenario asks for it (start-peer below);
# no option ROM on it (romfile=): the kernel is booted directly, iPXE would only cost boot time.
# TCG: this machine (and CI) has no KVM.

boot_guest() { # boot_guest VMLINUZ INITRD SERIALLOG OUTDISK APPEND-EXTRA
  local vmlinuz=$1 initrd=$2 serial=$3 outdisk=$4 extra=$5 stick=$LAB_BUILD/usbstick.img lan=$LAB_BUILD/lan.sock
  rm -f "$lan" "$serial.peer" "$serial.peer.raw" "$serial.peer.pid" "$serial.hostcpu"
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
    -netdev stream,id=lan,server=on,addr.type=unix,addr.path="$lan"
    -device virtio-net-pci,netdev=lan,mac=52:54:00:10:10:01,romfile=
    -chardev pipe,id=monitor,path="$serial.monitor" -mon chardev=monitor,mode=readline)
  rm -f "$serial.monitor.in" "$serial.monitor.out"; mkfifo "$serial.monitor.in" "$serial.monitor.out"
  printf '%q ' "${qemu[@]}" > "$serial.cmdline"
  # panic=-1 + -no-reboot: a panic ends QEMU at once; the timeout bounds a hang
  # raw first, so `tail -f $serial.raw` follows a running guest; the CR-free copy is the one read afterwards
  timeout -k 10 "${LAB_QEMU_TIMEOUT:-2700}" "${qemu[@]}" </dev/null > "$serial.raw" 2>&1 &
  local guest=$!
  cat <> "$serial.monitor.out" > "$serial.monitor.log" &  # read-write: never blocks, even if QEMU did not start
  local drain=$!
  carry_out_requests "$guest" "$serial.raw" "$serial.monitor.in" "$stick" "$vmlinuz" "$initrd" "$serial.peer" "$lan" &
  local requests=$!
  wait "$guest"
  local rc=$?
  wait "$requests"; kill "$drain" 2>/dev/null; wait "$drain" 2>/dev/null
  stop_peer "$serial.peer"
  tr -d '\r' < "$serial.raw" > "$serial"
  return $rc
}

# The peer: the same kernel and initramfs with lab.role=peer (guest/init then serves the main guest's scenario on the
# LAN instead of running scenarios), no USB devices, its NIC the other end of the main guest's LAN socket. Its serial
# log is the main one's with .peer (serial.log.peer); it runs until the main guest has ended.
boot_peer() { # boot_peer VMLINUZ INITRD SERIALLOG LANSOCKET MAIN-TIMEOUT-PID
  local qemu=(qemu-system-x86_64
    -machine q35 -accel tcg -cpu max -m 2048 -smp 2
    -nographic -no-reboot -nic none -vga none
    -kernel "$1" -initrd "$2"
    -append "console=ttyS0 no_timer_check panic=-1 loglevel=4 mitigations=off lab.role=peer"
    -netdev stream,id=lan,server=off,addr.type=unix,addr.path="$4"
    -device virtio-net-pci,netdev=lan,mac=52:54:00:10:10:02,romfile=)
  printf '%q ' "${qemu[@]}" > "$3.cmdline"
  timeout -k 10 "${LAB_QEMU_TIMEOUT:-2700}" "${qemu[@]}" </dev/null > "$3.raw" 2>&1 &
  local peer=$!
  echo $peer > "$3.pid"
  # the one request a peer makes: its timed reads run there
  tail -F -n +1 --pid="$peer" "$3.raw" 2>/dev/null | while IFS= read -r line; do
    line=${line%$'\r'}
    case $line in
      "LAB-QEMU host-cpu "*) record_host_cpu "${line#LAB-QEMU host-cpu }" "$5" "$3" >> "${3%.peer}.hostcpu";;
    esac
  done &
}

stop_peer() { # stop_peer SERIALLOG: ends the peer's QEMU, if one was booted, and keeps its log
  [ -s "$1.pid" ] || return 0
  local pid i=0
  pid=$(cat "$1.pid"); rm -f "$1.pid"
  kill "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
  kill -9 "$pid" 2>/dev/null
  tr -d '\r' < "$1.raw" > "$1"
}

# The guest asks for hot-plug by printing "LAB-QEMU <request>" (scenarios/_Lab.ps1: Invoke-LabQemu); only these
# requests exist, so a guest cannot drive the monitor at will:
#   unplug-stick         device_del of the USB stick (it disappears from the guest's xHCI)
#   plug-stick PORT      the same image plugged again on xHCI port PORT (a new bus id, the same serial)
#   start-peer           boots the peer guest on the LAN (once; later requests are ignored)
#   host-cpu LABEL       records the host's CPU use at this moment (record_host_cpu; the peer may ask this one too)
carry_out_requests() { # carry_out_requests QEMU-PID SERIAL-RAW MONITOR-FIFO STICK-IMAGE VMLINUZ INITRD PEER-SERIAL LANSOCKET
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
      "LAB-QEMU start-peer") [ -e "$7.pid" ] || boot_peer "$5" "$6" "$7" "$8" "$guest";;
      "LAB-QEMU host-cpu "*) record_host_cpu "${line#LAB-QEMU host-cpu }" "$guest" "$7" >> "${raw%.raw}.hostcpu";;
    esac
  done
}

# What the host's CPUs did up to a moment the guest names ("LAB-QEMU host-cpu <case> begin|end"): inside a TCG guest
# a busy vCPU's seconds run on even while the host has descheduled it, so only the host can say whether its cores were
# the limit. One line: the label, the host's uptime, its busy and idle jiffies (all cores, /proc/stat), and the CPU
# jiffies (user+system, all threads) of the main guest's QEMU and the peer's (0 when none runs).
record_host_cpu() { # record_host_cpu LABEL MAIN-TIMEOUT-PID PEER-SERIAL
  local main peer=0 cpu
  [[ $1 =~ ^[A-Za-z0-9._-]{1,64}\ (begin|end)$ ]] || return 0  # a guest's text: a name and a side, nothing else
  main=$(qemu_cpu_jiffies "$2")
  [ -s "$3.pid" ] && peer=$(qemu_cpu_jiffies "$(cat "$3.pid")")
  cpu=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
  echo "$1 $(cut -d' ' -f1 /proc/uptime) $cpu $main $peer"
}

qemu_cpu_jiffies() { # qemu_cpu_jiffies TIMEOUT-PID: the QEMU that `timeout` runs, its utime + stime
  local child; child=$(pgrep -P "$1" -x qemu-system-x86 | head -1)
  [ -n "$child" ] && awk '{ print $14 + $15 }' "/proc/$child/stat" 2>/dev/null || echo 0
}

# Claimed port: while the stick is shared, `virttools usbipd --claim-port 2-3` keeps its hub port (usb2 port 3)
# claimed whenever usbip-host does not hold it itself, so a device plugged there stays unconfigured and no host
# driver binds. The stick is exported, served and attached over 127.0.0.1; it is then unplugged and plugged back on
# port 3 through QEMU's monitor. It must come back with no usb-storage binding and no sd disk on the server, go
# straight to usbip-host, and be attached remotely again. Then Remove-UsbIpExport in this process (not the daemon's):
# the daemon removes the export itself and keeps the port claimed, so the stick stays unconfigured. Asserted from
# sysfs, /dev, /proc and the kernel log.
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Export-UsbIpDevice', 'Get-UsbIpDevice', 'Connect-UsbIpDevice', 'Disconnect-UsbIpDevice', 'Remove-UsbIpExport', 'Get-UsbDevice'
$busId = $script:LabSharedBusId
$sysfs = "/sys/bus/usb/devices/$busId"
$hubNode = '/dev/bus/usb/002/001' # usb2, the xHCI's USB 3 root hub the stick hangs off
Initialize-LabUsbIp
Reset-LabUsbIp

# The usbfs nodes a process holds open (/proc/PID/fd links), to see the claim from the kernel's side.
function Get-LabOpenUsbNodes([int] $ProcessId) {
    foreach ($fd in @([IO.Directory]::GetFiles("/proc/$ProcessId/fd"))) {
        $target = [IO.FileInfo]::new($fd).LinkTarget
        if ($target -like '/dev/bus/usb/*') { $target }
    }
}

# Disks whose device sits on the xHCI (not on a vhci_hcd bus): what usb-storage would give the server.
function Get-LabLocalUsbDisks {
    @([IO.Directory]::GetDirectories('/sys/block') | Where-Object { (Get-LabRealPath $_) -match '/usb\d+/\d+-[\d.]+/' -and (Get-LabRealPath $_) -notmatch '/vhci_hcd\.' })
}

function Get-LabKernelLog { @(& dmesg 2>&1 | ForEach-Object { "$_" }) }

$daemon = $null
try {
    $null = Export-UsbIpDevice -BusId $busId -Confirm:$false
    Assert-LabEqual 'usbip-host' (Get-LabLinkName "$sysfs/driver") "kernel: $busId is bound to usbip-host"
    $daemon = Start-LabVirtTools "usbipd --address 127.0.0.1 --port 3240 --claim-port $busId"
    Assert-Lab (Wait-Lab { try { @(Get-UsbIpDevice -ComputerName 127.0.0.1 -TimeoutSec 10).Count -gt 0 } catch { $false } } 60) 'virttools usbipd serves the stick on 127.0.0.1'
    $device = Get-UsbDevice -BusId $busId
    Assert-Lab ($device.PortClaimed -eq $true) "Get-UsbDevice: PortClaimed is true while usbip-host holds $busId (its probe claims the port)"
    Assert-Lab (@(Get-LabOpenUsbNodes $daemon.Id) -notcontains $hubNode) "kernel: usbipd does not hold $hubNode while usbip-host owns the port"

    $port = Get-UsbIpDevice -ComputerName 127.0.0.1 | Where-Object BusId -eq $busId | Connect-UsbIpDevice -Confirm:$false
    $null = Assert-LabSharedDeviceImported 'attached over 127.0.0.1 before the replug'

    Invoke-LabQemu 'unplug-stick'
    Assert-Lab (Wait-Lab { $null -eq (Find-LabStick) } 40) 'kernel: the stick left the xHCI'
    Assert-Lab (Wait-Lab { @(Get-LabImportedUsbDevice).Count -eq 0 } 60) 'kernel: the import left the vhci_hcd bus with it'
    Assert-Lab (Wait-Lab { @(Get-LabOpenUsbNodes $daemon.Id) -contains $hubNode } 20) "kernel: usbipd holds $hubNode open (the claim on port 3) while the stick is out"

    $logBefore = (Get-LabKernelLog).Count
    Invoke-LabQemu 'plug-stick 3'
    Assert-Lab (Wait-Lab { (Find-LabStick) -eq $busId } 40) "kernel: the stick is back on port 3 as $busId"
    Assert-Lab (Wait-Lab { (Get-LabLinkName "$sysfs/driver") -eq 'usbip-host' } 30) "kernel: $busId went to usbip-host by itself"
    Assert-LabEqual '1' (Read-LabFile "$sysfs/usbip_status") "kernel: $busId usbip_status is 1 (available)"
    $since = @(Get-LabKernelLog | Select-Object -Skip $logBefore)
    foreach ($line in $since | Where-Object { $_ -match 'usb-storage|scsi|sd[a-z]|usbip' }) { Write-LabLine "    dmesg: $line" }
    Assert-Lab (@($since | Where-Object { $_ -match 'USB Mass Storage device detected|Attached SCSI' }).Count -eq 0) 'kernel log: usb-storage never took the replugged stick and no SCSI disk was attached'
    Assert-Lab ($null -eq (Get-LabLinkName "$sysfs/${busId}:1.0/driver")) "kernel: ${busId}:1.0 has no interface driver"
    Assert-Lab (-not [IO.File]::Exists("/sys/bus/usb/drivers/usb-storage/${busId}:1.0")) 'kernel: usb-storage lists no interface of the stick'
    Assert-LabEqual 0 (Get-LabLocalUsbDisks).Count 'kernel: no sd disk of a local USB device in /sys/block'
    Assert-Lab (@(Get-LabOpenUsbNodes $daemon.Id) -notcontains $hubNode) "kernel: usbipd released $hubNode before usbip-host bound"

    $port = Get-UsbIpDevice -ComputerName 127.0.0.1 | Where-Object BusId -eq $busId | Connect-UsbIpDevice -Confirm:$false
    $null = Assert-LabSharedDeviceImported 'attached over 127.0.0.1 again after the replug'
    Assert-LabEqual '2' (Read-LabFile "$sysfs/usbip_status") "kernel: $busId usbip_status is 2 (in use) again"
    Disconnect-UsbIpDevice -Port $port.Port -Confirm:$false
    Assert-Lab (Wait-Lab { @(Get-LabImportedUsbDevice).Count -eq 0 } 20) 'kernel: detached'

    # Remove-UsbIpExport from this process, which holds no claim: the daemon that does removes the export (its
    # control socket), claiming the port again before the reprobe, so the stick stays off the host's drivers.
    $control = "/run/virttools/usbipd-$($daemon.Id).sock"
    Assert-Lab ([IO.File]::Exists($control)) "usbipd listens on $control"
    $logBefore = (Get-LabKernelLog).Count
    Remove-UsbIpExport -BusId $busId -Confirm:$false
    Assert-LabEqual 'usb' (Get-LabLinkName "$sysfs/driver") "kernel: after Remove-UsbIpExport in another process $busId is on the generic driver"
    Assert-Lab (@(Get-LabOpenUsbNodes $daemon.Id) -contains $hubNode) "kernel: usbipd holds $hubNode again (it claimed the port before the reprobe)"
    Assert-Lab ((Get-UsbDevice -BusId $busId).PortClaimed -eq $true) 'Get-UsbDevice: PortClaimed is true'
    # A few of the daemon's rounds (one a second at least): the removal was asked for, so the stick is not exported again.
    Start-Sleep -Seconds 3
    Assert-LabEqual 'usb' (Get-LabLinkName "$sysfs/driver") "kernel: $busId is still on the generic driver 3 s later (not exported again)"
    Assert-Lab ($null -eq (Get-LabLinkName "$sysfs/${busId}:1.0/driver")) "kernel: ${busId}:1.0 has no interface driver"
    Assert-LabEqual 0 (Get-LabLocalUsbDisks).Count 'kernel: no sd disk of a local USB device in /sys/block'
    $since = @(Get-LabKernelLog | Select-Object -Skip $logBefore)
    Assert-Lab (@($since | Where-Object { $_ -match 'USB Mass Storage device detected|Attached SCSI' }).Count -eq 0) 'kernel log: usb-storage never took the stick after the removal'
}
catch {
    Assert-Lab $false "stopped by an error: $_"
}
finally {
    if ($daemon -and -not $daemon.HasExited) {
        $null = Invoke-LabTool kill -TERM $daemon.Id
        Assert-Lab ($daemon.WaitForExit(30000)) 'virttools usbipd stopped on SIGTERM'
    }
    Reset-LabUsbIp
    if ((Find-LabStick) -ne $busId) { $null = Invoke-LabReplug 3 }
    Assert-Lab (Wait-Lab { $null -ne (Get-LabLinkName "$sysfs/${busId}:1.0/driver") } 30) "kernel: $busId is back on usb-storage"
}
Complete-LabScenario

# Re-claim before unexport: a server in this process, `Start-UsbIpServer -ClaimPort 2-3`, reserves the stick's port
# for sharing, so the stick (on usb-storage at the start) is exported by itself. `Remove-UsbIpExport` then goes
# through that server: the port is claimed again between usbip-host's unbind and the reprobe, so the stick stays on
# the server unconfigured, with no usb-storage binding and no sd disk, while the claim is held. Stop-UsbIpServer
# releases the port and hands the stick back to usb-storage. Asserted from sysfs, /proc and the kernel log. Before the
# stop, an Export-UsbIpDevice that bypasses the server is a forced bind failure whose error quotes the kernel's line.
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Start-UsbIpServer', 'Stop-UsbIpServer', 'Remove-UsbIpExport', 'Get-UsbDevice', 'Export-UsbIpDevice'
$busId = $script:LabSharedBusId
$sysfs = "/sys/bus/usb/devices/$busId"
$hubNode = '/dev/bus/usb/002/001' # usb2, the xHCI's USB 3 root hub the stick hangs off
Initialize-LabUsbIp
Reset-LabUsbIp

function Test-LabHoldsHubNode {
    foreach ($fd in @([IO.Directory]::GetFiles("/proc/$PID/fd"))) {
        if ([IO.FileInfo]::new($fd).LinkTarget -eq $hubNode) { return $true }
    }
    return $false
}

function Get-LabKernelLog { @(& dmesg 2>&1 | ForEach-Object { "$_" }) }

$server = $null
try {
    Assert-Lab (Wait-Lab { $null -ne (Get-LabLinkName "$sysfs/${busId}:1.0/driver") } 30) "kernel: $busId starts on usb-storage"
    $server = Start-UsbIpServer -Address 127.0.0.1 -TcpPort 3240 -ClaimPort $busId -Confirm:$false
    Assert-Lab (Wait-Lab { (Get-LabLinkName "$sysfs/driver") -eq 'usbip-host' } 30) "kernel: the reserved port's device $busId was exported (usbip-host)"
    Assert-Lab (-not (Test-LabHoldsHubNode)) "kernel: this process does not hold $hubNode while usbip-host owns the port"

    $logBefore = (Get-LabKernelLog).Count
    $device = Remove-UsbIpExport -BusId $busId -Confirm:$false -PassThru
    Assert-LabEqual 'usb' $device.Driver "Remove-UsbIpExport: $busId is back on the generic driver"
    Assert-Lab ($null -eq $device.Configuration) "Remove-UsbIpExport: $busId is unconfigured"
    Assert-Lab (Test-LabHoldsHubNode) "kernel: this process holds $hubNode open (the claim on port 3) after the unexport"
    Assert-LabEqual 'usb' (Get-LabLinkName "$sysfs/driver") "kernel: $busId is on the generic driver"
    Assert-LabEqual '' (Read-LabFile "$sysfs/bConfigurationValue") "kernel: $busId has no active configuration"
    [Threading.Thread]::Sleep(3000) # usb-storage would have bound by now
    Assert-Lab (-not [IO.Directory]::Exists("$sysfs/${busId}:1.0")) "kernel: $busId has no interface (nothing for usb-storage to bind)"
    Assert-Lab (-not [IO.File]::Exists("/sys/bus/usb/drivers/usb-storage/${busId}:1.0")) 'kernel: usb-storage lists no interface of the stick'
    $disks = @([IO.Directory]::GetDirectories('/sys/block') | Where-Object { (Get-LabRealPath $_) -match '/usb\d+/\d+-[\d.]+/' })
    Assert-LabEqual 0 $disks.Count 'kernel: no sd disk of a local USB device in /sys/block'
    $since = @(Get-LabKernelLog | Select-Object -Skip $logBefore)
    foreach ($line in $since | Where-Object { $_ -match 'usb-storage|scsi|sd[a-z]|usbip' }) { Write-LabLine "    dmesg: $line" }
    Assert-Lab (@($since | Where-Object { $_ -match 'USB Mass Storage device detected|Attached SCSI' }).Count -eq 0) 'kernel log: usb-storage never took the stick after the unexport'
    Assert-Lab ((Get-UsbDevice -BusId $busId).PortClaimed -eq $true) "Get-UsbDevice: PortClaimed is true for $busId"
    [Threading.Thread]::Sleep(2000) # two keeper rounds: it must not export the device again
    Assert-LabEqual 'usb' (Get-LabLinkName "$sysfs/driver") "kernel: $busId is not exported again while it stays plugged in"

    # A forced bind failure: Export-UsbIpDevice does not go through the server, so usbip-host's probe cannot claim the
    # port this process holds and fails. The error quotes the line the kernel logged about the device meanwhile.
    $logBefore = (Get-LabKernelLog).Count
    $failure = $null
    try { $null = Export-UsbIpDevice -BusId $busId -Confirm:$false -ErrorAction Stop } catch { $failure = $_ }
    Assert-Lab ($null -ne $failure) "Export-UsbIpDevice: binding usbip-host to $busId fails while the port is claimed"
    Assert-LabEqual 'UsbIpBindFailed' "$($failure.FullyQualifiedErrorId)".Split(',')[0] 'the error is UsbIpBindFailed'
    $said = "$($failure.Exception.Message)"
    Write-LabLine "  error: $said"
    $new = @(Get-LabKernelLog | Select-Object -Skip $logBefore | Where-Object { $_ -match [regex]::Escape($busId) } | ForEach-Object { $_ -replace '^\[\s*[0-9.]+\]\s*', '' })
    Assert-Lab ($said -match 'The kernel said: ') 'the error quotes the kernel'
    Assert-Lab (@($new | Where-Object { $said.Contains($_) }).Count -ge 1) "the quoted line is one dmesg shows about $busId for this bind ($($new -join ' | '))"
    Assert-LabEqual 'usb' (Get-LabLinkName "$sysfs/driver") "kernel: after the failed bind $busId is back on the generic driver"

    $server | Stop-UsbIpServer -Confirm:$false
    $server = $null
    Assert-Lab (-not (Test-LabHoldsHubNode)) "kernel: Stop-UsbIpServer released $hubNode"
    Assert-Lab (Wait-Lab { $null -ne (Get-LabLinkName "$sysfs/${busId}:1.0/driver") } 30) "kernel: after the stop, $busId is handed back to usb-storage"
}
catch {
    Assert-Lab $false "stopped by an error: $_"
}
finally {
    if ($server) { $server | Stop-UsbIpServer -Confirm:$false }
    Reset-LabUsbIp
}
Complete-LabScenario

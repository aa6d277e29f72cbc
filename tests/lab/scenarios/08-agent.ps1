# `virttools agent` keeps USB/IP true by itself: a server-side agent exports the stick by serial and serves it, a
# client-side agent attaches it with reconnect: true. The server side is stopped (its export removed, which cuts the
# link) and started again: the attachment comes back within the backoff bound. The stick is unplugged and plugged on
# another port through QEMU's monitor: the server agent exports it under its new bus id and the client attaches it
# again, nobody acting. The kernel's view is checked at every step.
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Remove-UsbIpExport', 'Get-UsbIpPort'
Initialize-LabUsbIp
[IO.File]::WriteAllText('/tmp/server.yaml', @"
usbip:
  server: { address: ["127.0.0.1"], tcpPort: 3240, allow: ["127.0.0.1"] }
  exports:
    - match: { vendorId: "46f4", productId: "0001", serial: "LAB0001" }
"@)
Write-LabStickClientProfile '/tmp/client.yaml'
function Test-LabExported([string] $BusId) { (Get-LabLinkName "/sys/bus/usb/devices/$BusId/driver") -eq 'usbip-host' }

$server = $null; $client = $null
try {
    $server = Start-LabAgent /tmp/server.yaml
    Assert-Lab (Wait-Lab { Test-LabExported '2-3' } 40) 'kernel: the server agent bound the stick (2-3, matched by serial) to usbip-host'
    $client = Start-LabAgent /tmp/client.yaml
    $null = Assert-LabSharedDeviceImported 'the client agent attached it' 90
    $port = @(Get-UsbIpPort -InUse)
    Assert-LabEqual '127.0.0.1' $port[0].RemoteHost 'Get-UsbIpPort: the attachment names its server'

    # The server side goes away: its agent stops and the export is removed, which cuts the link.
    Stop-LabAgent $server; $server = $null
    Remove-UsbIpExport -BusId 2-3 -Force -Confirm:$false
    Assert-Lab (Wait-Lab { -not (Test-LabImported) } 20) 'kernel: with the export gone the import left the vhci_hcd bus'
    [Threading.Thread]::Sleep(3000) # the client agent fails a few times and backs off
    $restarted = [DateTime]::UtcNow
    $server = Start-LabAgent /tmp/server.yaml
    Assert-Lab (Wait-Lab { Test-LabExported '2-3' } 40) 'kernel: the restarted server agent exported 2-3 again'
    $back = Wait-Lab { Test-LabImported } 75
    Assert-Lab $back "kernel: the attachment came back by itself $([int]([DateTime]::UtcNow - $restarted).TotalSeconds) s after the server restarted (backoff bound 60 s)"

    # Replug on another port: a new bus id, the same serial.
    $moved = Invoke-LabReplug 4
    Assert-LabEqual '2-4' $moved 'kernel: the stick came back as 2-4'
    Assert-Lab (Wait-Lab { Test-LabExported '2-4' } 40) 'kernel: the server agent exported it under its new bus id 2-4'
    $null = Assert-LabSharedDeviceImported 'the client agent attached the replugged stick' 90
}
catch {
    Assert-Lab $false "stopped by an error: $_"
}
finally {
    Stop-LabAgent $client
    Stop-LabAgent $server
    Reset-LabUsbIp
    if (Test-LabExported '2-4') { $null = & usbip unbind -b 2-4 2>&1 }
    if ((Find-LabStick) -ne '2-3') { $null = Invoke-LabReplug 3 }
    Assert-LabEqual '2-3' (Find-LabStick) 'kernel: the stick is back on port 3 as 2-3'
}
Complete-LabScenario

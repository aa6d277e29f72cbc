# USB/IP capacity: every device the guest has (keyboard and tablet at full speed, the stick at SuperSpeed) exported
# and attached over loopback at once. Each lands on a hub of its speed; Get-UsbIpPort's per-hub counts must agree with
# the kernel's own nports and status files, before and after. Exhausting one speed is out of a loopback lab's reach:
# Debian's vhci_hcd has 8 controllers x 15 ports per hub, built in (no module parameter), so 120 ports of a speed,
# while usbip-host's match_busid table exports at most 16 devices. The no-free-port error itself is shown on the vhci
# double in the unit tests.
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Export-UsbIpDevice', 'Start-UsbIpServer', 'Stop-UsbIpServer', 'Get-UsbIpDevice', 'Connect-UsbIpDevice',
    'Get-UsbIpPort', 'Disconnect-UsbIpDevice', 'Remove-UsbIpExport'
Initialize-LabUsbIp
$busIds = '1-1', '1-2', $script:LabSharedBusId

# The kernel's view: nports on vhci_hcd.0 counts every port of every controller, half of them SuperSpeed.
function Get-LabVhciRows {
    $controllers = [IO.Directory]::GetDirectories('/sys/devices/platform', 'vhci_hcd.*')
    foreach ($file in @($controllers | ForEach-Object { [IO.Directory]::GetFiles($_, 'status*') })) {
        foreach ($line in [IO.File]::ReadAllLines($file)) {
            $fields = -split $line
            if ($fields.Count -ge 3 -and $fields[1] -match '^\d+$') { , $fields }
        }
    }
}
$nports = [int](Read-LabFile '/sys/devices/platform/vhci_hcd.0/nports')
$ports = @(Get-UsbIpPort -All)
Assert-LabEqual $nports $ports.Count "Get-UsbIpPort lists every port the kernel has (nports $nports)"
Assert-LabEqual ($nports / 2) @($ports | Where-Object { "$($_.Hub)" -eq 'SuperSpeed' }).Count 'half of them SuperSpeed'
Assert-LabEqual @(Get-LabVhciRows).Count $ports.Count 'as many as the status files have rows'

$server = $null
try {
    $exports = @($busIds | Export-UsbIpDevice -Confirm:$false)
    Assert-LabEqual 3 $exports.Count 'Export-UsbIpDevice exported all three devices'
    $server = Start-UsbIpServer -Address 127.0.0.1 -TcpPort 3240
    $attached = @(Get-UsbIpDevice -ComputerName 127.0.0.1 | Connect-UsbIpDevice -Confirm:$false)
    Assert-LabEqual 3 $attached.Count 'Connect-UsbIpDevice attached all three'
    Assert-Lab (Wait-Lab { @(Get-LabImportedUsbDevice).Count -eq 3 } 30) 'kernel: three devices on vhci_hcd buses'

    $inUse = @(Get-UsbIpPort -InUse)
    Assert-LabEqual 3 $inUse.Count 'Get-UsbIpPort -InUse shows three ports'
    Assert-LabEqual 2 @($inUse | Where-Object { "$($_.Hub)" -eq 'HighSpeed' }).Count 'the two full-speed devices sit on high-speed ports'
    Assert-LabEqual 1 @($inUse | Where-Object { "$($_.Hub)" -eq 'SuperSpeed' }).Count 'the SuperSpeed stick on a SuperSpeed port'
    $kernelUsed = @(Get-LabVhciRows | Where-Object { $_[2] -eq '006' })
    Assert-LabEqual 3 $kernelUsed.Count 'kernel: three status rows are VDEV_ST_USED'
    Assert-LabEqual ($nports - 3) @(Get-UsbIpPort -Free).Count 'Get-UsbIpPort -Free counts the rest'
    foreach ($port in $inUse) {
        Assert-LabEqual '006' (Get-LabVhciPortStatus $port.Port) "kernel: port $($port.Port) ($($port.Hub)) is in use"
    }

    $inUse | Disconnect-UsbIpDevice -Confirm:$false
    Assert-Lab (Wait-Lab { @(Get-LabImportedUsbDevice).Count -eq 0 } 20) 'kernel: every import left the vhci_hcd buses'
    Assert-LabEqual $nports @(Get-UsbIpPort -Free).Count 'every port is free again'
}
catch {
    Assert-Lab $false "stopped by an error: $_"
}
finally {
    if ($server) { Stop-UsbIpServer -InputObject $server -ErrorAction SilentlyContinue }
    foreach ($line in @(& usbip port 2>$null)) {
        if ("$line" -match '^Port (\d+):') { $null = & usbip detach -p $Matches[1] 2>&1 }
    }
    foreach ($busId in $busIds) {
        if ((Get-LabLinkName "/sys/bus/usb/devices/$busId/driver") -eq 'usbip-host') { $null = & usbip unbind -b $busId 2>&1 }
    }
    Assert-Lab (Wait-Lab { (Get-LabLinkName '/sys/bus/usb/devices/1-1/1-1:1.0/driver') -eq 'usbhid' } 15) 'kernel: the keyboard is back on usbhid'
}
Complete-LabScenario

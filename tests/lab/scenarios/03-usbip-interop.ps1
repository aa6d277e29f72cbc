# USB/IP interop both ways with the kernel's own tools: `usbip attach` against Start-UsbIpServer, and
# Connect-UsbIpDevice against `usbipd`; `usbip port` and Get-UsbIpPort must each see the other's attachment.
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Export-UsbIpDevice', 'Remove-UsbIpExport', 'Start-UsbIpServer', 'Stop-UsbIpServer', 'Get-UsbIpDevice',
    'Connect-UsbIpDevice', 'Get-UsbIpPort', 'Disconnect-UsbIpDevice'
$busId = $script:LabSharedBusId
Initialize-LabUsbIp
$server = $null
$usbipd = $null
try {
    # ---- the kernel's client against our server
    $null = Export-UsbIpDevice -BusId $busId -Confirm:$false
    $server = Start-UsbIpServer -Address 127.0.0.1 -TcpPort 3240
    $list = Invoke-LabTool usbip list -r 127.0.0.1
    Assert-Lab ($LASTEXITCODE -eq 0 -and ($list -match "^\s*$([regex]::Escape($busId)):").Count -gt 0) "usbip list -r lists $busId from our server"
    $null = Invoke-LabTool usbip attach -r 127.0.0.1 -b $busId
    Assert-LabEqual 0 $LASTEXITCODE 'usbip attach against our server'
    $null = Assert-LabSharedDeviceImported 'usbip attach against Start-UsbIpServer'
    $ports = @(Get-UsbIpPort -InUse)
    Assert-LabEqual 1 $ports.Count 'Get-UsbIpPort sees the attachment usbip made'
    if ($ports.Count -eq 1) {
        Assert-LabEqual $busId $ports[0].RemoteBusId 'Get-UsbIpPort reads the remote bus id usbip recorded'
        Assert-LabEqual '006' (Get-LabVhciPortStatus $ports[0].Port) "kernel: vhci port $($ports[0].Port) is in use"
        $null = Invoke-LabTool usbip detach -p $ports[0].Port
        Assert-LabEqual 0 $LASTEXITCODE "usbip detach -p $($ports[0].Port)"
    }
    Assert-Lab (Wait-Lab { @(Get-LabImportedUsbDevice).Count -eq 0 } 10) 'kernel: the import left the vhci_hcd bus'
    Stop-UsbIpServer -InputObject $server; $server = $null
    Remove-UsbIpExport -BusId $busId -Confirm:$false

    # ---- our client against the kernel's usbipd
    $null = Invoke-LabTool usbip bind -b $busId
    Assert-LabEqual 0 $LASTEXITCODE "usbip bind -b $busId"
    $usbipd = [Diagnostics.Process]::Start('/usr/sbin/usbipd', '--tcp-port 3240')
    $listening = Wait-Lab { (Read-LabFile '/proc/net/tcp') -match ':0CA8 00000000:0000 0A' -or (Read-LabFile '/proc/net/tcp6') -match ':0CA8 0+:0000 0A' } 10
    Assert-Lab $listening 'kernel: usbipd listens on TCP 3240'
    $remote = @(Get-UsbIpDevice -ComputerName 127.0.0.1 | Where-Object { $_.BusId -eq $busId })
    Assert-LabEqual 1 $remote.Count "Get-UsbIpDevice lists $busId from usbipd"
    $port = $remote | Connect-UsbIpDevice -Confirm:$false
    $null = Assert-LabSharedDeviceImported 'Connect-UsbIpDevice against usbipd'
    $usbipPort = Invoke-LabTool usbip port
    Assert-Lab (($usbipPort -match "^Port 0*$($port.Port):").Count -gt 0) "usbip port shows port $($port.Port)"
    Assert-Lab (($usbipPort -match "usbip://127\.0\.0\.1:3240/$([regex]::Escape($busId))").Count -gt 0) 'usbip port reads the remote bus id Connect-UsbIpDevice recorded'
    Disconnect-UsbIpDevice -Port $port.Port -Confirm:$false
    Assert-Lab (Wait-Lab { @(Get-LabImportedUsbDevice).Count -eq 0 } 10) 'kernel: the import left the vhci_hcd bus'
}
finally {
    if ($server) { Stop-UsbIpServer -InputObject $server -ErrorAction SilentlyContinue }
    if ($usbipd -and -not $usbipd.HasExited) { $usbipd.Kill(); $usbipd.WaitForExit(5000) }
    Reset-LabUsbIp
}
Complete-LabScenario

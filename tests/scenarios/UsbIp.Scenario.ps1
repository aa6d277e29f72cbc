# USB/IP: serve the root's exports on a loopback port, list them as a client, refuse what must be refused, stop.
param($Root)
. "$PSScriptRoot/_Assert.ps1"

# The capture shows 2-3 bound to usbip-host and imported by a client (usbip_status 2): not offered, as usbipd does.
$server = Start-UsbIpServer -Root $Root -Address 127.0.0.1 -TcpPort 0
try {
    Assert-True ($server.TcpPort -gt 0) 'an ephemeral port was picked and reported'
    Assert-Equal 0 @(Get-UsbIpDevice -Root $Root -ComputerName 127.0.0.1 -TcpPort $server.TcpPort).Count 'a device in use is not offered'

    # Once the client let go of it (usbip_status 1), it is offered with its ids and interfaces.
    [IO.File]::WriteAllText("$Root/sys/bus/usb/devices/2-3/usbip_status", "1`n")
    $device = Get-UsbIpDevice -Root $Root -ComputerName 127.0.0.1 -TcpPort $server.TcpPort
    Assert-Equal '2-3' $device.BusId 'the exported device is listed by busid'
    Assert-Equal '46f4:0001' "$($device.VendorId):$($device.ProductId)" 'with its ids'
    Assert-Equal '08' $device.Interfaces[0].Class 'and its mass-storage interface'
    Assert-Equal 2 $server.Connections 'the live counter saw both clients'

    # An attach rehearsed with -WhatIf sends no import request: the server would hand its device over.
    $device | Connect-UsbIpDevice -Root $Root -WhatIf
    Assert-Equal 2 $server.Connections 'Connect-UsbIpDevice -WhatIf did not contact the server'
}
finally {
    $server | Stop-UsbIpServer
}
Assert-Throws { Get-UsbIpDevice -Root $Root -ComputerName 127.0.0.1 -TcpPort $server.TcpPort -ErrorAction Stop } 'UsbIpServerUnreachable' 'a stopped server refuses connections'

# Detaching: the captured import on port 15 binds by Port; -WhatIf writes nothing; a free port is refused.
Get-UsbIpPort -InUse -Root $Root | Disconnect-UsbIpDevice -WhatIf
Assert-Equal 1 @(Get-UsbIpPort -InUse -Root $Root).Count 'port 15 is still in use after -WhatIf'
Assert-True (-not [IO.Directory]::Exists("$Root/run/vhci_hcd")) 'no attach record was written'
Assert-Throws { Disconnect-UsbIpDevice -Port 3 -Root $Root -Confirm:$false -ErrorAction Stop } 'UsbIpPortNotInUse' 'a free port has nothing to disconnect'

# The export side: exporting 2-3 again is harmless, a dry run of its removal changes nothing, and the imported copy
# of the same stick (4-1, on vhci_hcd.0) is refused as usbip bind refuses it.
$export = Export-UsbIpDevice -Root $Root 2-3
Assert-Equal 'usbip-host' $export.Device.Driver 'an exported device is output as it is'
Get-UsbIpExport -Root $Root | Remove-UsbIpExport -WhatIf
Assert-Equal 1 @(Get-UsbIpExport -Root $Root).Count '-WhatIf left the export in place'
Assert-Throws { Export-UsbIpDevice -Root $Root 4-1 -ErrorAction Stop } 'UsbIpBindLoop' 'an imported device is not exported again'

# USB/IP loopback with VirtTools' own parts only: export the storage device, serve it, import it over 127.0.0.1, see it
# work as a block device on a vhci_hcd bus, detach, unexport; the kernel's view checked at every step.
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Export-UsbIpDevice', 'Start-UsbIpServer', 'Stop-UsbIpServer', 'Get-UsbIpDevice', 'Connect-UsbIpDevice',
    'Get-UsbIpPort', 'Disconnect-UsbIpDevice', 'Remove-UsbIpExport'
$busId = $script:LabSharedBusId
$sysfs = "/sys/bus/usb/devices/$busId"
Initialize-LabUsbIp
$server = $null
try {
    $null = Export-UsbIpDevice -BusId $busId -Confirm:$false
    Assert-LabEqual 'usbip-host' (Get-LabLinkName "$sysfs/driver") "kernel: $busId is bound to usbip-host"
    Assert-LabEqual '1' (Read-LabFile "$sysfs/usbip_status") "kernel: $busId usbip_status is 1 (available)"

    $server = Start-UsbIpServer -Address 127.0.0.1 -TcpPort 3240
    $remote = @(Get-UsbIpDevice -ComputerName 127.0.0.1 | Where-Object { $_.BusId -eq $busId })
    Assert-LabEqual 1 $remote.Count "Get-UsbIpDevice lists $busId from our server"

    $port = $remote | Connect-UsbIpDevice -Confirm:$false
    Assert-Lab ($null -ne $port) "Connect-UsbIpDevice returned port $($port.Port)"
    $imported = Assert-LabSharedDeviceImported 'Connect-UsbIpDevice against Start-UsbIpServer'
    Assert-LabEqual '2' (Read-LabFile "$sysfs/usbip_status") "kernel: $busId usbip_status is 2 (in use)"
    Assert-LabEqual '006' (Get-LabVhciPortStatus $port.Port) "kernel: vhci port $($port.Port) is in use (VDEV_ST_USED)"
    $disk = Wait-Lab { @([IO.Directory]::GetDirectories('/sys/block') | Where-Object { (Get-LabRealPath $_) -match '/vhci_hcd\.' }).Count -gt 0 } 20
    Assert-Lab $disk 'kernel: the imported storage device has a block device'

    $inUse = @(Get-UsbIpPort -InUse)
    Assert-LabEqual 1 $inUse.Count 'Get-UsbIpPort -InUse shows one port'
    if ($inUse.Count -eq 1) {
        Assert-LabEqual $port.Port $inUse[0].Port 'the port in use is the one Connect-UsbIpDevice returned'
        Assert-LabEqual $busId $inUse[0].RemoteBusId 'RemoteBusId'
        Assert-LabEqual '127.0.0.1' $inUse[0].RemoteHost 'RemoteHost'
        Assert-LabEqual $imported $inUse[0].LocalBusId 'LocalBusId is the bus id the kernel gave the import'
    }
    # With no switch, one summary per controller and hub: the counts add up to the kernel's ports, one of them in use.
    $summary = @(Get-UsbIpPort)
    Assert-LabEqual @(Get-UsbIpPort -All).Count ($summary | Measure-Object Ports -Sum).Sum 'Get-UsbIpPort: the summaries count every port'
    Assert-LabEqual 1 ($summary | Measure-Object InUse -Sum).Sum 'Get-UsbIpPort: the summaries count one port in use'
    Assert-LabEqual $inUse[0].Controller (@($summary | Where-Object InUse -eq 1).Controller) 'Get-UsbIpPort: on the controller that holds it'

    Disconnect-UsbIpDevice -Port $port.Port -Confirm:$false
    Assert-Lab (Wait-Lab { @(Get-LabImportedUsbDevice).Count -eq 0 } 10) 'kernel: the import left the vhci_hcd bus'
    Assert-LabEqual '004' (Get-LabVhciPortStatus $port.Port) "kernel: vhci port $($port.Port) is free again (VDEV_ST_NULL)"

    Stop-UsbIpServer -InputObject $server; $server = $null
    Remove-UsbIpExport -BusId $busId -Confirm:$false
    Assert-Lab (Wait-Lab { (Get-LabLinkName "$sysfs/$($busId):1.0/driver") -eq 'usb-storage' } 10) "kernel: $busId is back on usb-storage"
    Assert-Lab ((Get-LabLinkName "$sysfs/driver") -ne 'usbip-host') "kernel: $busId left usbip-host"
}
finally {
    if ($server) { Stop-UsbIpServer -InputObject $server -ErrorAction SilentlyContinue }
    Reset-LabUsbIp
}
Complete-LabScenario

# USB read side on the captured kernel tree: an admin finds the storage stick by its ids, sees it both exported
# (2-3, on the xHCI) and re-imported over loopback (4-1, on a vhci_hcd bus), and follows it through the pipeline.
param($Root)
. "$PSScriptRoot/_Assert.ps1"

$sticks = @(Get-UsbDevice -Root $Root -VendorId 46f4 -ProductId 0001)
Assert-Equal 2 $sticks.Count 'the stick shows twice: its physical port and the vhci port it is imported on'

$exported = $sticks | Where-Object IsExported
Assert-Equal '2-3' $exported.BusId 'the exported one sits on port 3 of bus 2'
Assert-Equal 'usbip-host' $exported.Driver 'it is bound to usbip-host'
Assert-Equal '/dev/bus/usb/002/002' $exported.DevicePath 'its node follows busnum/devnum'
Assert-Equal 'usb2' $exported.ParentBusId 'its parent is the SuperSpeed root hub'
Assert-Equal 5000 $exported.SpeedMbps 'it runs at SuperSpeed'

$imported = $sticks | Where-Object IsImported
Assert-Equal '4-1' $imported.BusId 'the imported copy sits on a vhci bus'
Assert-Equal 'usb-storage' $imported.Interfaces[0].Driver 'the importing side drives its interface with usb-storage'
Assert-Equal $exported.SerialNumber $imported.SerialNumber 'both identities carry the same serial'

# Piping a device into the USB/IP cmdlets binds BusId and Root by property name.
$export = $exported | Get-UsbIpExport
Assert-Equal 'InUse' "$($export.Status)" 'usbip_status 2: a client holds it'
Assert-True $export.IsInMatchTable 'usbip-host remembers it in match_busid'

$port = Get-UsbIpPort -Root $Root -InUse
Assert-Equal 'SuperSpeed' "$($port.Hub)" 'a 5000 Mbps device takes a SuperSpeed vhci port'
Assert-Equal '4-1' $port.LocalBusId 'the in-use port is the one that carries 4-1'
Assert-Equal $exported.DeviceNumber $port.RemoteDeviceNumber 'the port records the remote devnum'

Assert-Equal 0 @(Get-UsbDevice -Root $Root | Where-Object IsHub).Count 'root hubs stay out unless asked for'
Assert-True (@(Get-UsbDevice -Root $Root -IncludeHub | Where-Object IsHub).Count -gt 0) '-IncludeHub adds them'
Assert-Throws { Get-UsbDevice -Root $Root -BusId 9-9 -ErrorAction Stop } 'UsbDeviceNotFound' 'an absent bus id is UsbDeviceNotFound'

# Replug: the stick unplugged and plugged on another xHCI port through QEMU's monitor. Its bus id follows the port,
# its bus/device numbers change, its serial stays: what Get-UsbDevice shows must follow the kernel. It ends where it
# began (port 3, bus id 2-3), so later scenarios find the lab as it booted.
. "$PSScriptRoot/_Lab.ps1"
$before = Get-UsbDevice -BusId 2-3
Assert-LabEqual 'LAB0001' $before.SerialNumber 'Get-UsbDevice: the stick is 2-3 at boot'
try {
    $moved = Invoke-LabReplug 4
    Assert-LabEqual '2-4' $moved 'kernel: plugged on port 4, the stick is 2-4'
    $after = @(Get-UsbDevice -VendorId 46f4 -ProductId 0001 | Where-Object { -not $_.IsImported })
    Assert-LabEqual 1 $after.Count 'Get-UsbDevice finds the stick once'
    Assert-LabEqual '2-4' $after[0].BusId 'under its new bus id'
    Assert-LabEqual 'LAB0001' $after[0].SerialNumber 'with the same serial'
    Assert-Lab ($after[0].DeviceNumber -ne $before.DeviceNumber) "with a new device number ($($before.DeviceNumber) -> $($after[0].DeviceNumber))"
    Assert-LabEqual ('/dev/bus/usb/{0:D3}/{1:D3}' -f $after[0].BusNumber, $after[0].DeviceNumber) $after[0].DevicePath 'DevicePath follows busnum/devnum'
    Assert-Lab ([IO.File]::Exists($after[0].DevicePath)) "kernel: $($after[0].DevicePath) exists"
    Assert-Lab (-not [IO.File]::Exists($before.DevicePath) -or $before.DevicePath -eq $after[0].DevicePath) "kernel: the old node $($before.DevicePath) is gone"
    Assert-Lab ($null -eq (Get-UsbDevice -BusId 2-3 -ErrorAction SilentlyContinue)) 'Get-UsbDevice: nothing is at 2-3 any more'
}
catch {
    Assert-Lab $false "stopped by an error: $_"
}
finally {
    if ((Find-LabStick) -ne '2-3') { $null = Invoke-LabReplug 3 }
    Assert-LabEqual '2-3' (Find-LabStick) 'kernel: the stick is back on port 3 as 2-3'
    $null = Wait-Lab { $null -ne (Get-LabLinkName '/sys/bus/usb/devices/2-3/2-3:1.0/driver') } 15
}
Complete-LabScenario

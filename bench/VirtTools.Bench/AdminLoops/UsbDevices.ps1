# What an admin writes instead of Get-UsbDevice: a loop over /sys/bus/usb/devices reading the same attribute
# files into one object per device, with core commands and .NET calls only.
param($Root)
function attr($dir, $name) { $p = "$dir/$name"; if ([IO.File]::Exists($p)) { [IO.File]::ReadAllText($p).Trim() } }
function driver($dir) { $t = [IO.FileInfo]::new("$dir/driver").LinkTarget; if ($t) { [IO.Path]::GetFileName($t) } }
foreach ($dir in [IO.Directory]::GetDirectories("$Root/sys/bus/usb/devices")) {
    $busId = [IO.Path]::GetFileName($dir)
    if ($busId.Contains(':')) { continue }
    $interfaces = foreach ($i in [IO.Directory]::GetDirectories($dir)) {
        if (-not [IO.Path]::GetFileName($i).Contains(':')) { continue }
        [pscustomobject]@{
            Name = [IO.Path]::GetFileName($i); Number = attr $i bInterfaceNumber; AlternateSetting = attr $i bAlternateSetting
            Class = attr $i bInterfaceClass; SubClass = attr $i bInterfaceSubClass; Protocol = attr $i bInterfaceProtocol
            EndpointCount = attr $i bNumEndpoints; Description = attr $i interface; Driver = driver $i
        }
    }
    $driver = driver $dir
    [pscustomobject]@{
        BusId = $busId; BusNumber = attr $dir busnum; DeviceNumber = attr $dir devnum
        VendorId = attr $dir idVendor; ProductId = attr $dir idProduct; DeviceRelease = attr $dir bcdDevice
        Manufacturer = attr $dir manufacturer; Product = attr $dir product; SerialNumber = attr $dir serial
        SpeedMbps = attr $dir speed; UsbVersion = attr $dir version; DeviceClass = attr $dir bDeviceClass
        DeviceSubClass = attr $dir bDeviceSubClass; DeviceProtocol = attr $dir bDeviceProtocol
        Configuration = attr $dir bConfigurationValue; ConfigurationCount = attr $dir bNumConfigurations
        InterfaceCount = attr $dir bNumInterfaces; Interfaces = $interfaces; Driver = $driver
        UsbIpStatus = if ($driver -eq 'usbip-host') { attr $dir usbip_status }
    }
}

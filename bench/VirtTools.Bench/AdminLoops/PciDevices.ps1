# What an admin writes instead of Get-PciDevice: a loop over /sys/bus/pci/devices reading the same attribute
# files (config space included) into one object per function, with core commands and .NET calls only.
param($Root)
function attr($dir, $name) { $p = "$dir/$name"; if ([IO.File]::Exists($p)) { [IO.File]::ReadAllText($p).Trim() } }
function link($dir, $name) { $t = [IO.FileInfo]::new("$dir/$name").LinkTarget; if ($t) { [IO.Path]::GetFileName($t) } }
foreach ($dir in [IO.Directory]::GetDirectories("$Root/sys/bus/pci/devices")) {
    $config = [IO.File]::ReadAllBytes("$dir/config")
    $msi = @(if ([IO.Directory]::Exists("$dir/msi_irqs")) { foreach ($v in [IO.Directory]::GetFiles("$dir/msi_irqs")) { [IO.File]::ReadAllText($v).Trim() } })
    $driver = link $dir driver
    [pscustomobject]@{
        Address = [IO.Path]::GetFileName($dir); VendorId = attr $dir vendor; DeviceId = attr $dir device
        SubsystemVendorId = attr $dir subsystem_vendor; SubsystemId = attr $dir subsystem_device; ClassCode = attr $dir class
        Revision = attr $dir revision; Driver = $driver; DriverOverride = attr $dir driver_override; Irq = attr $dir irq
        InterruptPin = $config[0x3d]; HeaderType = $config[0x0e] -band 0x7f; MsiVectors = $msi.Count; MsiKind = $msi[0]
        IommuGroup = link $dir iommu_group; NumaNode = attr $dir numa_node; ResetMethods = attr $dir reset_method
        IsEnabled = attr $dir enable; IsVfioBound = [IO.Directory]::Exists("$dir/vfio-dev")
    }
}

# Inventory: the read-side cmdlets describe the emulated machine as its kernel sees it. QEMU gives it (lib/qemu.sh):
# a keyboard and a tablet on the xHCI's USB 2 bus (ports 1, 2), a storage device serial=LAB0001 on its USB 3 bus
# (port 3), an e1000 NIC, intel-iommu, and no KVM (TCG).
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Get-UsbDevice', 'Get-PciDevice', 'Get-IommuGroup', 'Get-VirtHost', 'Test-VirtHost'

# ---- USB: every identity and attribute equals what sysfs says
$devices = @(Get-UsbDevice)
$expected = @(
    @{ BusId = '1-1'; Product = 'QEMU USB Keyboard'; Speed = 480; InterfaceDriver = 'usbhid' }
    @{ BusId = '1-2'; Product = 'QEMU USB Tablet'; Speed = 480; InterfaceDriver = 'usbhid' }
    @{ BusId = '2-3'; Product = 'QEMU USB HARDDRIVE'; Speed = 5000; InterfaceDriver = 'usb-storage'; Serial = 'LAB0001' })
foreach ($want in $expected) {
    $busId = $want.BusId
    $sysfs = "/sys/bus/usb/devices/$busId"
    Assert-LabEqual $want.Product (Read-LabFile "$sysfs/product") "kernel: $busId is the $($want.Product)"
    Assert-LabEqual $want.Speed (Read-LabFile "$sysfs/speed") "kernel: $busId runs at $($want.Speed) Mbit/s"
    $found = @($devices | Where-Object { $_.BusId -eq $busId })
    Assert-LabEqual 1 $found.Count "Get-UsbDevice lists $busId once"
    if ($found.Count -ne 1) { continue }
    $device = $found[0]
    Assert-LabEqual (Read-LabFile "$sysfs/idVendor") $device.VendorId "$busId VendorId"
    Assert-LabEqual (Read-LabFile "$sysfs/idProduct") $device.ProductId "$busId ProductId"
    Assert-LabEqual (Read-LabFile "$sysfs/busnum") $device.BusNumber "$busId BusNumber"
    Assert-LabEqual (Read-LabFile "$sysfs/devnum") $device.DeviceNumber "$busId DeviceNumber"
    Assert-LabEqual (Read-LabFile "$sysfs/speed") $device.SpeedMbps "$busId SpeedMbps"
    Assert-LabEqual (Read-LabFile "$sysfs/serial") $device.SerialNumber "$busId SerialNumber"
    Assert-LabEqual (Get-LabLinkName "$sysfs/driver") $device.Driver "$busId Driver"
    $interfaceDrivers = @($device.Interfaces | ForEach-Object { $_.Driver })
    Assert-Lab ($interfaceDrivers -contains (Get-LabLinkName "$sysfs/$($busId):1.0/driver")) "$busId interface driver is $($want.InterfaceDriver) (cmdlet: $($interfaceDrivers -join ','))"
    Assert-Lab ([IO.File]::Exists($device.DevicePath)) "$busId DevicePath $($device.DevicePath) exists"
    Assert-Lab (-not $device.IsImported -and -not $device.IsExported) "$busId is neither imported nor exported"
    if ($want.Serial) { Assert-LabEqual $want.Serial $device.SerialNumber "$busId carries QEMU's serial" }
}

# ---- PCI: the e1000 as sysfs has it
$nicAddress = Find-LabPciAddress '8086' '100e'
Assert-Lab ($null -ne $nicAddress) "kernel: an e1000 (8086:100e) is on the PCI bus ($nicAddress)"
$nic = @(Get-PciDevice | Where-Object { $_.VendorId -eq '8086' -and $_.DeviceId -eq '100e' })
Assert-LabEqual 1 $nic.Count 'Get-PciDevice lists the e1000 once'
$nicGroup = Get-LabLinkName "/sys/bus/pci/devices/$nicAddress/iommu_group"
if ($nic.Count -eq 1) {
    Assert-LabEqual $nicAddress $nic[0].Address 'e1000 Address'
    Assert-LabEqual (Get-LabLinkName "/sys/bus/pci/devices/$nicAddress/driver") $nic[0].Driver 'e1000 Driver'
    Assert-LabEqual $nicGroup $nic[0].IommuGroup 'e1000 IommuGroup'
}

# ---- IOMMU groups: the same groups and members as /sys/kernel/iommu_groups; viability follows the drivers
$kernelGroups = @([IO.Directory]::GetDirectories('/sys/kernel/iommu_groups') | ForEach-Object { [IO.Path]::GetFileName($_) })
$groups = @(Get-IommuGroup)
Assert-Lab ($kernelGroups.Count -gt 0) "kernel: intel-iommu made $($kernelGroups.Count) groups"
Assert-LabEqual $kernelGroups.Count $groups.Count 'Get-IommuGroup lists every group'
$group = @($groups | Where-Object { "$($_.Group)" -eq $nicGroup })
Assert-LabEqual 1 $group.Count "Get-IommuGroup lists the e1000's group $nicGroup"
if ($group.Count -eq 1) {
    $members = @([IO.Directory]::GetFileSystemEntries("/sys/kernel/iommu_groups/$nicGroup/devices") | ForEach-Object { [IO.Path]::GetFileName($_) })
    Assert-LabEqual ($members -join ',') (@($group[0].Address) -join ',') "group $nicGroup members"
    # vfio can take a group only when no member is bound to a host driver (vfio-pci, pci-stub or none are fine)
    $hostBound = @($members | Where-Object { (Get-LabLinkName "/sys/bus/pci/devices/$_/driver") -notin @($null, 'vfio-pci', 'pci-stub', 'pcieport') })
    Assert-LabEqual ($hostBound.Count -eq 0) $group[0].IsViable "group $nicGroup IsViable (host-bound members: $($hostBound -join ','))"
    if ($hostBound.Count -gt 0) { Assert-Lab (@($group[0].Problems).Count -gt 0) "group $nicGroup says why it is not viable: $(@($group[0].Problems) -join '; ')" }
}

# ---- the host summary: IOMMU on, no KVM, running under QEMU
$virtHost = Get-VirtHost
$text = ($virtHost.PSObject.Properties | ForEach-Object { "$($_.Name)=$($_.Value)" }) -join '; '
Write-LabLine "  Get-VirtHost: $text"
$iommuOn = @([IO.Directory]::GetFileSystemEntries('/sys/class/iommu')).Count -gt 0
Assert-Lab $iommuOn 'kernel: /sys/class/iommu has the DMAR unit'
Assert-Lab (-not [IO.File]::Exists('/dev/kvm')) 'kernel: no /dev/kvm under TCG'
function Get-LabVirtHostValue([string[]] $Names) {
    # the contract names what Get-VirtHost tells, not its property names: accept the obvious spellings
    foreach ($name in $Names) { if ($virtHost.PSObject.Properties[$name]) { return $virtHost.$name } }
    Assert-Lab $false "Get-VirtHost has none of the properties $($Names -join ', ')"
}
Assert-LabEqual $true (Get-LabVirtHostValue 'IommuEnabled', 'IommuOn', 'Iommu') 'Get-VirtHost: IOMMU on'
Assert-LabEqual $false (Get-LabVirtHostValue 'KvmDeviceExists') 'Get-VirtHost: KVM absent'
$runningUnder = Get-LabVirtHostValue 'RunningUnder', 'Hypervisor', 'HostHypervisor'
Assert-Lab ("$runningUnder" -match 'qemu|kvm') "Get-VirtHost: running under QEMU ($runningUnder; DMI: $(Read-LabFile '/sys/class/dmi/id/sys_vendor'))"

$checks = @(Test-VirtHost)
foreach ($check in $checks) { Write-LabLine "  Test-VirtHost: $($check.Area)/$($check.Name) $($check.Result) $($check.Message)" }
Assert-Lab ($checks.Count -gt 0) "Test-VirtHost returns $($checks.Count) checks"
Assert-Lab (@($checks | Where-Object { "$($_.Result)" -notin 'Pass', 'Warn', 'Fail', 'Skip' }).Count -eq 0) 'every check is Pass, Warn, Fail or Skip'
Assert-Lab (@($checks | Where-Object { "$($_.Area) $($_.Name) $($_.Message)" -match 'kvm' -and "$($_.Result)" -ne 'Pass' }).Count -gt 0) 'Test-VirtHost says KVM is missing'
Assert-Lab (@($checks | Where-Object { "$($_.Area) $($_.Name)" -match 'iommu' -and "$($_.Result)" -eq 'Pass' }).Count -gt 0) 'Test-VirtHost passes the IOMMU'
Complete-LabScenario

# Smoke: the guest booted, the published host runs and imports the module (even with no cmdlets yet), and QEMU's
# devices are where the other scenarios expect them. Core PowerShell and .NET only.
. "$PSScriptRoot/_Lab.ps1"

$module = Get-Module VirtTools
Assert-Lab ($null -ne $module) "the VirtTools module is imported ($($module.Path))"
Write-LabLine "  exported cmdlets: $(@($module.ExportedCmdlets.Keys) -join ', ')"

$expected = @(
    @{ BusId = '1-1'; Vendor = '0627'; Product = 'QEMU USB Keyboard'; Interface = 'usbhid' }
    @{ BusId = '1-2'; Vendor = '0627'; Product = 'QEMU USB Tablet'; Interface = 'usbhid' }
    @{ BusId = '2-3'; Vendor = '46f4'; Product = 'QEMU USB HARDDRIVE'; Interface = 'usb-storage' })
foreach ($device in $expected) {
    $sysfs = "/sys/bus/usb/devices/$($device.BusId)"
    Assert-LabEqual $device.Vendor (Read-LabFile "$sysfs/idVendor") "$($device.BusId) vendor"
    Assert-LabEqual $device.Product (Read-LabFile "$sysfs/product") "$($device.BusId) product"
    Assert-LabEqual $device.Interface (Get-LabLinkName "$sysfs/$($device.BusId):1.0/driver") "$($device.BusId):1.0 driver"
}
Assert-LabEqual 'LAB0001' (Read-LabFile '/sys/bus/usb/devices/2-3/serial') 'the storage device carries QEMU serial=LAB0001'

$nic = Find-LabPciAddress '8086' '100e'
Assert-Lab ($null -ne $nic) "the e1000 NIC is on the PCI bus ($nic)"
if ($nic) { Assert-LabEqual 'e1000' (Get-LabLinkName "/sys/bus/pci/devices/$nic/driver") 'the e1000 NIC is bound to e1000' }
Assert-Lab (@([IO.Directory]::GetDirectories('/sys/kernel/iommu_groups')).Count -gt 0) 'intel-iommu made IOMMU groups'
Assert-Lab ([IO.File]::Exists('/sys/kernel/mm/ksm/run')) 'the kernel has KSM'
Assert-Lab (-not [IO.File]::Exists('/dev/kvm')) 'no /dev/kvm under TCG'
Complete-LabScenario

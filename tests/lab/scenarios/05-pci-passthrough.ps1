# PCI passthrough of the e1000 NIC: with vfio-pci missing it must stay on e1000 (an injected failure); with vfio-pci
# it moves there and /dev/vfio/<group> appears; Remove-PciPassthrough gives it back to e1000.
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Get-PciDevice', 'Set-PciPassthrough', 'Remove-PciPassthrough'
$address = Find-LabPciAddress '8086' '100e'
Assert-Lab ($null -ne $address) "kernel: the e1000 is at $address"
$sysfs = "/sys/bus/pci/devices/$address"
$group = Get-LabLinkName "$sysfs/iommu_group"
$kernelVersion = ([IO.File]::ReadAllText('/proc/sys/kernel/osrelease')).Trim()
$vfioModule = @([IO.Directory]::GetFiles("/lib/modules/$kernelVersion", 'vfio-pci.ko', [IO.SearchOption]::AllDirectories))[0]
try {
    # ---- injected failure: vfio-pci cannot be loaded (its module file is moved away)
    Assert-Lab (-not [IO.Directory]::Exists('/sys/module/vfio_pci')) 'kernel: vfio-pci is not loaded yet'
    [IO.File]::Move($vfioModule, '/tmp/vfio-pci.ko.hidden')
    $failed = $false
    try { $null = Set-PciPassthrough -Address $address -Confirm:$false } catch { $failed = $true; Write-LabLine "  expected failure: $_" }
    Assert-Lab $failed 'Set-PciPassthrough fails when vfio-pci cannot be loaded'
    Assert-LabEqual 'e1000' (Get-LabLinkName "$sysfs/driver") 'kernel: the NIC stayed on e1000'
    Assert-LabEqual '(null)' (Read-LabFile "$sysfs/driver_override") 'kernel: no driver_override was left behind'
    [IO.File]::Move('/tmp/vfio-pci.ko.hidden', $vfioModule)

    # ---- to vfio-pci
    $null = Invoke-LabTool modprobe vfio-pci
    $device = Set-PciPassthrough -Address $address -Confirm:$false
    Assert-LabEqual 'vfio-pci' (Get-LabLinkName "$sysfs/driver") 'kernel: the NIC is bound to vfio-pci'
    Assert-Lab ([IO.File]::Exists("/dev/vfio/$group")) "kernel: /dev/vfio/$group appeared"
    Assert-LabEqual 'vfio-pci' $device.Driver 'Set-PciPassthrough returns the device on vfio-pci'

    # ---- back to e1000
    $null = Remove-PciPassthrough -Address $address -Confirm:$false
    Assert-Lab (Wait-Lab { (Get-LabLinkName "$sysfs/driver") -eq 'e1000' } 10) 'kernel: the NIC is back on e1000'
    Assert-LabEqual '(null)' (Read-LabFile "$sysfs/driver_override") 'kernel: driver_override is cleared'
    $netDevice = Wait-Lab { @([IO.Directory]::GetDirectories("$sysfs/net")).Count -gt 0 } 10
    Assert-Lab $netDevice 'kernel: e1000 made a network interface again'
}
finally {
    if ([IO.File]::Exists('/tmp/vfio-pci.ko.hidden')) { [IO.File]::Move('/tmp/vfio-pci.ko.hidden', $vfioModule) }
    if ((Get-LabLinkName "$sysfs/driver") -ne 'e1000') {
        Write-LabFile "$sysfs/driver_override" "`n"
        if ([IO.Directory]::Exists("$sysfs/driver")) { Write-LabFile "$sysfs/driver/unbind" $address }
        Write-LabFile '/sys/bus/pci/drivers_probe' $address
    }
}
Complete-LabScenario

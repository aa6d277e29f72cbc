# Host probes on a copy of the captured tree: what it holds is reported, what it lacks is $null or Skip.
param($Root)
. "$PSScriptRoot/_Assert.ps1"

$hostInfo = Get-VirtHost -Root $Root
Assert-True $hostInfo.IommuEnabled 'IOMMU groups exist in the captured tree'
Assert-Equal 'Intel VT-d' $hostInfo.IommuKind 'dmar0 under /sys/class/iommu'
Assert-Equal 8 $hostInfo.VhciControllers 'vhci_hcd.0 to vhci_hcd.7'
Assert-Equal 240 $hostInfo.VhciPorts 'nports'
Assert-True $hostInfo.UsbIpHostLoaded 'usbip-host driver present'
Assert-Null $hostInfo.CpuExtension 'no /proc/cpuinfo in the capture'
Assert-Equal 'None' "$($hostInfo.XenRole)" 'not Xen'

$checks = @(Test-VirtHost -Root $Root)
Assert-True ($checks.Count -ge 8) 'every area is checked'
Assert-Equal 0 @($checks | Where-Object Result -eq 'Fail').Count 'missing evidence is Skip, not Fail'
Assert-Equal 0 @($checks | Where-Object { $_.Result -ne 'Pass' -and -not $_.Hint }).Count 'every non-Pass check has a hint'
Assert-Equal 'Pass' "$((Test-VirtHost -Area IOMMU -Root $Root | Where-Object Name -eq 'IOMMU groups').Result)" 'groups exist'
Assert-Equal 1 @(Test-VirtHost -Area KSM -Root $Root).Count 'the area filter'

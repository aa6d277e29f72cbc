# Baseline: what scenarios 02, 03, 05 and 06 ask of VirtTools, done with the kernel's own tools (usbip/usbipd, sysfs
# writes, a MADV_MERGEABLE helper) and checked with the same helpers. When a cmdlet scenario fails and this passes,
# the cmdlet is at fault, not the lab's machine. Runs last and undoes what it did.
. "$PSScriptRoot/_Lab.ps1"
$busId = $script:LabSharedBusId
$usbSysfs = "/sys/bus/usb/devices/$busId"

# ---- USB/IP: usbipd + usbip bind/attach/detach/unbind
Initialize-LabUsbIp
$usbipd = $null
try {
    $null = Invoke-LabTool usbip bind -b $busId
    Assert-LabEqual 'usbip-host' (Get-LabLinkName "$usbSysfs/driver") "kernel: usbip bind put $busId on usbip-host"
    Assert-LabEqual '1' (Read-LabFile "$usbSysfs/usbip_status") "kernel: $busId usbip_status is 1 (available)"
    $usbipd = [Diagnostics.Process]::Start('/usr/sbin/usbipd', '--tcp-port 3240')
    Assert-Lab (Wait-Lab { (Read-LabFile '/proc/net/tcp') -match ':0CA8 00000000:0000 0A' -or (Read-LabFile '/proc/net/tcp6') -match ':0CA8 0+:0000 0A' } 10) 'kernel: usbipd listens on TCP 3240'
    $null = Invoke-LabTool usbip attach -r 127.0.0.1 -b $busId
    $null = Assert-LabSharedDeviceImported 'usbip attach against usbipd'
    Assert-LabEqual '2' (Read-LabFile "$usbSysfs/usbip_status") "kernel: $busId usbip_status is 2 (in use)"
    $ports = Invoke-LabTool usbip port
    $port = @($ports | Where-Object { $_ -match '^Port (\d+):' } | ForEach-Object { [int]$Matches[1] })[0]
    Assert-Lab ($null -ne $port) "usbip port shows the attachment on port $port"
    Assert-Lab (($ports -match "usbip://127\.0\.0\.1:3240/$([regex]::Escape($busId))").Count -gt 0) 'usbip port shows the remote bus id'
    Assert-LabEqual '006' (Get-LabVhciPortStatus $port) "kernel: vhci port $port is in use (VDEV_ST_USED)"
    $null = Invoke-LabTool usbip detach -p $port
    Assert-Lab (Wait-Lab { @(Get-LabImportedUsbDevice).Count -eq 0 } 10) 'kernel: the import left the vhci_hcd bus'
    Assert-LabEqual '004' (Get-LabVhciPortStatus $port) "kernel: vhci port $port is free again (VDEV_ST_NULL)"
    $null = Invoke-LabTool usbip unbind -b $busId
    Assert-Lab (Wait-Lab { (Get-LabLinkName "$usbSysfs/$($busId):1.0/driver") -eq 'usb-storage' } 10) "kernel: $busId is back on usb-storage"
}
finally {
    if ($usbipd -and -not $usbipd.HasExited) { $usbipd.Kill(); $usbipd.WaitForExit(5000) }
    Reset-LabUsbIp
}

# ---- vfio-pci by driver_override, and back
$address = Find-LabPciAddress '8086' '100e'
$pciSysfs = "/sys/bus/pci/devices/$address"
$group = Get-LabLinkName "$pciSysfs/iommu_group"
try {
    $null = Invoke-LabTool modprobe vfio-pci
    Write-LabFile "$pciSysfs/driver_override" 'vfio-pci'
    Write-LabFile "$pciSysfs/driver/unbind" $address
    Write-LabFile '/sys/bus/pci/drivers_probe' $address
    Assert-LabEqual 'vfio-pci' (Get-LabLinkName "$pciSysfs/driver") "kernel: $address is bound to vfio-pci"
    Assert-Lab ([IO.File]::Exists("/dev/vfio/$group")) "kernel: /dev/vfio/$group appeared"
}
finally {
    Write-LabFile "$pciSysfs/driver_override" "`n"
    if ([IO.Directory]::Exists("$pciSysfs/driver")) { Write-LabFile "$pciSysfs/driver/unbind" $address }
    Write-LabFile '/sys/bus/pci/drivers_probe' $address
    $null = Invoke-LabTool rmmod vfio-pci
}
Assert-LabEqual 'e1000' (Get-LabLinkName "$pciSysfs/driver") "kernel: $address is back on e1000"

# ---- KSM: ksmd merges the helper's identical pages
$ksm = '/sys/kernel/mm/ksm'
$pages = 1024
$start = [Diagnostics.ProcessStartInfo]::new('/lab/bin/ksm-mergeable', "$pages")
$start.RedirectStandardOutput = $true
$helper = [Diagnostics.Process]::Start($start)
try {
    Assert-LabEqual "ready $($helper.Id)" $helper.StandardOutput.ReadLine() 'the helper mapped its mergeable pages'
    Write-LabFile "$ksm/pages_to_scan" '1000'
    Write-LabFile "$ksm/sleep_millisecs" '10'
    Write-LabFile "$ksm/run" '1'
    $merged = Wait-Lab { [int](Read-LabFile "/proc/$($helper.Id)/ksm_merging_pages") -eq $pages } 30
    Assert-Lab $merged "kernel: ksmd merged the helper's $pages pages (ksm_merging_pages $(Read-LabFile "/proc/$($helper.Id)/ksm_merging_pages"))"
    Assert-Lab ([long](Read-LabFile "$ksm/pages_sharing") -gt 0) "kernel: pages_sharing is $(Read-LabFile "$ksm/pages_sharing")"
}
finally {
    if (-not $helper.HasExited) { $helper.Kill(); $helper.WaitForExit(5000) }
    Write-LabFile "$ksm/run" '2'
}
Complete-LabScenario

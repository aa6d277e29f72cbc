# Test-PciPassthrough on the e1000 behind QEMU's intel-iommu: every finding equals what the kernel's own files say,
# read here independently (the IR- interrupt chips and the DMAR unit's ecap, iommu_group, reserved_regions,
# reset_method, the class), and the verdict follows from the findings. Reads only.
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Test-PciPassthrough'
$address = Find-LabPciAddress '8086' '100e'
Assert-Lab ($null -ne $address) "kernel: the e1000 is at $address"
$sysfs = "/sys/bus/pci/devices/$address"
$device = [IO.Path]::GetFullPath([IO.Directory]::ResolveLinkTarget($sysfs, $true).FullName)
$readiness = Test-PciPassthrough -Address $address
$findings = @{}
foreach ($finding in $readiness.Findings) {
    $findings[$finding.Check] = $finding
    Write-LabLine "  $($finding.Check) $($finding.Result): $($finding.Evidence)"
}

# ---- IOMMU and group
$group = Get-LabLinkName "$sysfs/iommu_group"
Assert-Lab ($null -ne $group) "kernel: the e1000 is in IOMMU group $group"
Assert-LabEqual 'Pass' $findings['Iommu'].Result 'Iommu passes: the function has an iommu_group'
Assert-LabEqual "$device/iommu_group -> /sys/kernel/iommu_groups/$group" $findings['Iommu'].Evidence 'Iommu quotes the link'
$members = @([IO.Directory]::GetFileSystemEntries("/sys/kernel/iommu_groups/$group/devices") | ForEach-Object { [IO.Path]::GetFileName($_) })
$others = @($members | Where-Object { $_ -ne $address -and $null -ne (Get-LabLinkName "/sys/bus/pci/devices/$_/driver") })
Assert-LabEqual ($(if ($others.Count -eq 0) { 'Pass' } else { 'Warn' })) $findings['IommuGroup'].Result "IommuGroup: $($members.Count) member(s), $($others.Count) other(s) on a driver"

# ---- interrupt remapping: the kernel's IR- chips, independently
$irChip = $null
foreach ($dir in [IO.Directory]::GetDirectories('/sys/kernel/irq')) {
    $chip = Read-LabFile "$dir/chip_name"
    if ($null -ne $chip -and $chip.StartsWith('IR-')) { $irChip = $chip; break }
}
Assert-Lab ($null -ne $irChip) "kernel: an interrupt chip is remapped ($irChip)"
Assert-LabEqual 'Pass' $findings['InterruptRemapping'].Result 'InterruptRemapping passes on the real kernel''s evidence'
$evidence = $findings['InterruptRemapping'].Evidence
Assert-Lab ($evidence -match '^/sys/kernel/irq/(\d+)/chip_name: (IR-\S+)') "InterruptRemapping quotes an IR- chip ($evidence)"
if ($evidence -match '^/sys/kernel/irq/(\d+)/chip_name: (\S+)') {
    Assert-LabEqual (Read-LabFile "/sys/kernel/irq/$($Matches[1])/chip_name") $Matches[2] 'the quoted chip is what that file holds'
}
$ecap = [Convert]::ToUInt64((Read-LabFile '/sys/class/iommu/dmar0/intel-iommu/ecap'), 16)
Assert-Lab (($ecap -band 8) -ne 0) 'kernel: dmar0 ecap has the IR bit (3)'

# ---- reserved regions, reset, the class
$regionsPath = "/sys/kernel/iommu_groups/$group/reserved_regions"
$regions = @(([IO.File]::ReadAllText($regionsPath)).Split("`n", [StringSplitOptions]::RemoveEmptyEntries) | ForEach-Object { $_.Trim() })
$direct = @($regions | Where-Object { ($_ -split ' ')[2] -like 'direct*' })
$expected = if ($direct.Count -gt 0) { "${regionsPath}: $($direct -join ', ')" } else { "${regionsPath}: $($regions -join ', ')" }
Assert-LabEqual $expected $findings['ReservedRegions'].Evidence 'ReservedRegions quotes the group''s file'
Assert-LabEqual ($(if ($direct.Count -gt 0) { 'Warn' } else { 'Pass' })) $findings['ReservedRegions'].Result 'ReservedRegions: Warn exactly for direct regions'
$resetMethod = Read-LabFile "$sysfs/reset_method"
if ($null -ne $resetMethod) {
    Assert-LabEqual "$device/reset_method: $resetMethod" $findings['Reset'].Evidence 'Reset quotes reset_method'
} else {
    Assert-Lab ($findings['Reset'].Evidence.StartsWith("$device/reset_method: missing")) "Reset says reset_method is missing ($($findings['Reset'].Evidence))"
    # Both lab kernels have reset_method (5.15+), which the kernel hides when it knows no way to reset the function.
    Assert-LabEqual 'Warn' $findings['Reset'].Result 'Reset: a kernel with reset_method that hides it knows no method'
}
$d3cold = Read-LabFile "$sysfs/d3cold_allowed"
Assert-LabEqual "$device/d3cold_allowed: $(if ($null -eq $d3cold) { 'missing' } else { $d3cold })" $findings['D3cold'].Evidence 'D3cold quotes d3cold_allowed'
$barsInUse = @(([IO.File]::ReadAllText("$sysfs/resource")).Split("`n", [StringSplitOptions]::RemoveEmptyEntries) | Select-Object -First 6 |
    Where-Object { $f = $_ -split ' '; [Convert]::ToUInt64($f[1], 16) -gt [Convert]::ToUInt64($f[0], 16) })
Assert-Lab ($findings['Bars'].Evidence.StartsWith("$device/resource: ")) "Bars quotes the resource file ($($findings['Bars'].Evidence))"
Assert-LabEqual $barsInUse.Count ([regex]::Matches($findings['Bars'].Evidence, 'BAR\d').Count) 'Bars lists every BAR in use in resource'
Assert-LabEqual 'Pass' $findings['Bars'].Result 'Bars: the e1000 has only small BARs'
Assert-Lab ($findings['Bridge'].Evidence.StartsWith("$device/class: $(Read-LabFile "$sysfs/class");")) 'Bridge quotes the class file'
Assert-LabEqual 'Pass' $findings['Bridge'].Result 'the e1000 is no bridge'

# ---- the verdict
$results = @($readiness.Findings | ForEach-Object { "$($_.Result)" })
$verdict = if ($results -contains 'Fail') { 'Blocked' } elseif (@($results | Where-Object { $_ -ne 'Pass' }).Count -gt 0) { 'Warning' } else { 'Ready' }
Assert-LabEqual $verdict "$($readiness.Verdict)" 'the verdict follows from the findings'
Complete-LabScenario
